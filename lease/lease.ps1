# patchrun-script: lease
# Takes, renews, releases or removes the run's lease on this host: the file
# $PatchrunArgs.dir\lock (default %ProgramData%\patchrun\lock). Times are
# this host's clock (Unix seconds). A new lease is written to a private
# temporary file and moved into place with File.Move, which fails if the
# lock exists: creation is atomic and complete. Changes to an existing lock
# happen holding lock.guard (created with CreateNew), so two takers of an
# expired lease cannot both win. $PatchrunArgs: op, dir, run_id, record,
# force.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Read-Lock([string]$path) {
    if (-not [IO.File]::Exists($path)) { return '' }
    $fs = [IO.File]::Open($path, 'Open', 'Read', 'ReadWrite, Delete')
    try {
        $buf = New-Object byte[] 4096
        $n = $fs.Read($buf, 0, $buf.Length)
        return [Text.Encoding]::UTF8.GetString($buf, 0, $n)
    } finally { $fs.Dispose() }
}

function Get-Field([string]$text, [string]$key) {
    foreach ($line in ($text -split "`n")) {
        if ($line.StartsWith($key + '=')) { return $line.Substring($key.Length + 1).TrimEnd("`r") }
    }
    return ''
}

function Get-Num([string]$s) {
    [int64]$n = 0
    if ([int64]::TryParse($s, [ref]$n) -and $n -ge 0) { return $n }
    return [int64]0
}

function Answer([string]$status, [int64]$now, [string]$holder) {
    Write-PatchrunResult -Result ([ordered]@{ status = $status; now = $now; holder = $holder })
    exit 0
}

try {
    $op = [string]$PatchrunArgs.op
    $run = [string]$PatchrunArgs.run_id
    $rec = [string]$PatchrunArgs.record
    $dir = [Environment]::ExpandEnvironmentVariables([string]$PatchrunArgs.dir)
    $now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
    [void][IO.Directory]::CreateDirectory($dir)
    $lock = Join-Path $dir 'lock'
    $guard = Join-Path $dir 'lock.guard'
    $tmp = Join-Path $dir ('lock.new.' + [guid]::NewGuid().ToString('N'))

    function Write-Tmp([int64]$started) {
        [IO.File]::WriteAllText($tmp, $rec + "`nstarted=$started`nrenewed=$now`n", (New-Object Text.UTF8Encoding $false))
    }

    if ($op -eq 'acquire') {
        Write-Tmp $now
        try {
            [IO.File]::Move($tmp, $lock)
            Answer 'acquired' $now ''
        } catch [System.IO.IOException] {
            # The lock exists: decide under the guard below.
        }
    }

    try {
        $g = [IO.File]::Open($guard, 'CreateNew', 'Write', 'None')
        $g.Dispose()
    } catch [System.IO.IOException] {
        $h = Read-Lock $lock
        if (Test-Path -LiteralPath $tmp) { Remove-Item -LiteralPath $tmp -Force }
        $age = [DateTime]::UtcNow - [IO.File]::GetLastWriteTimeUtc($guard)
        if ($age.TotalMinutes -gt 2) { Remove-Item -LiteralPath $guard -Force -ErrorAction SilentlyContinue }
        Answer 'busy' $now $h
    }

    try {
        $h = Read-Lock $lock
        $exists = $h -ne ''
        $ours = $exists -and ((Get-Field $h 'run_id') -eq $run)
        $expired = $exists -and ($now -gt ((Get-Num (Get-Field $h 'renewed')) + (Get-Num (Get-Field $h 'ttl'))))
        switch ($op) {
            'acquire' {
                if (-not $exists) { Move-Item -LiteralPath $tmp -Destination $lock -Force; Answer 'acquired' $now '' }
                if ($ours) { Write-Tmp (Get-Num (Get-Field $h 'started')); Move-Item -LiteralPath $tmp -Destination $lock -Force; Answer 'acquired' $now '' }
                if ($expired) { Move-Item -LiteralPath $tmp -Destination $lock -Force; Answer 'took-over' $now $h }
                Answer 'held' $now $h
            }
            'renew' {
                if ($ours) { Write-Tmp (Get-Num (Get-Field $h 'started')); Move-Item -LiteralPath $tmp -Destination $lock -Force; Answer 'renewed' $now '' }
                Answer 'lost' $now $h
            }
            'release' {
                if ($ours) { Remove-Item -LiteralPath $lock -Force; Answer 'released' $now '' }
                Answer 'not-held' $now $h
            }
            'unlock' {
                if (-not $exists) { Answer 'none' $now '' }
                if ($PatchrunArgs.force -or $expired) { Remove-Item -LiteralPath $lock -Force; Answer 'removed' $now $h }
                Answer 'live' $now $h
            }
            default { throw "unknown lease operation '$op'" }
        }
    } finally {
        if (Test-Path -LiteralPath $tmp) { Remove-Item -LiteralPath $tmp -Force }
        Remove-Item -LiteralPath $guard -Force -ErrorAction SilentlyContinue
    }
} catch {
    $hr = [int64]$_.Exception.HResult -band 4294967295
    Write-PatchrunResult -Result ([ordered]@{ error = $_.Exception.Message; hresult = ('0x{0:X8}' -f $hr) })
    exit 1
}
