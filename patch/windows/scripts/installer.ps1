# patchrun-script: installer
# Runs inside the SYSTEM scheduled task, in the work directory that
# install-start prepared. Downloads and installs exactly the requested update
# ids and keeps status.json current (always written to a temporary file and
# moved into place, so a reader never sees half a file).
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$workDir = Split-Path -Parent $MyInvocation.MyCommand.Path
$statusPath = Join-Path $workDir 'status.json'
$heartbeatPath = Join-Path $workDir 'heartbeat.txt'
$state = [ordered]@{
    phase           = 'queued'
    heartbeat       = [DateTime]::UtcNow.ToString('o')
    updates         = @()
    reboot_required = $false
    error           = ''
}

function Save-Status {
    $state.heartbeat = [DateTime]::UtcNow.ToString('o')
    $tmp = $statusPath + '.tmp'
    $json = ConvertTo-Json -InputObject $state -Depth 6 -Compress
    [IO.File]::WriteAllText($tmp, $json, (New-Object Text.UTF8Encoding($false)))
    Move-Item -LiteralPath $tmp -Destination $statusPath -Force
}

function Format-HResult($Value) {
    return ('0x{0:X8}' -f ([int64]$Value -band 4294967295))
}

# A single Download() or Install() call can run for many minutes; a separate
# runspace keeps a heartbeat file fresh meanwhile, so patchrun can tell a
# slow install from a dead installer.
$beat = [PowerShell]::Create()
$null = $beat.AddScript({
    param($Path)
    while ($true) {
        $tmp = $Path + '.tmp'
        [IO.File]::WriteAllText($tmp, [DateTime]::UtcNow.ToString('o'))
        Move-Item -LiteralPath $tmp -Destination $Path -Force
        Start-Sleep -Seconds 15
    }
}).AddArgument($heartbeatPath)
$null = $beat.BeginInvoke()

try {
    $request = Get-Content -LiteralPath (Join-Path $workDir 'request.json') -Raw | ConvertFrom-Json
    $wanted = @{}
    foreach ($id in @($request.update_ids)) { $wanted[[string]$id] = $true }

    $session = New-Object -ComObject Microsoft.Update.Session
    $session.ClientApplicationID = 'patchrun'
    $searcher = $session.CreateUpdateSearcher()
    $found = $searcher.Search("IsInstalled=0 and Type='Software' and IsHidden=0")
    $selected = New-Object -ComObject Microsoft.Update.UpdateColl
    foreach ($u in $found.Updates) {
        if ($wanted.ContainsKey([string]$u.Identity.UpdateID)) {
            if (-not $u.EulaAccepted) { $u.AcceptEula() }
            $null = $selected.Add($u)
        }
    }
    $results = @()
    foreach ($u in $selected) {
        $results += [ordered]@{ id = [string]$u.Identity.UpdateID; title = [string]$u.Title; result_code = 0; hresult = '0x00000000' }
    }
    foreach ($id in $wanted.Keys) {
        if (-not ($results | Where-Object { $_.id -eq $id })) {
            # WU_E_NOT_APPLICABLE: the update is no longer offered.
            $results += [ordered]@{ id = $id; title = ''; result_code = 4; hresult = '0x80240017' }
        }
    }
    $state.updates = $results

    if ($selected.Count -gt 0) {
        $state.phase = 'downloading'
        Save-Status
        for ($i = 0; $i -lt $selected.Count; $i++) {
            $one = New-Object -ComObject Microsoft.Update.UpdateColl
            $null = $one.Add($selected.Item($i))
            $downloader = $session.CreateUpdateDownloader()
            $downloader.Updates = $one
            $dl = $downloader.Download()
            if ($dl.ResultCode -ne 2 -and $dl.ResultCode -ne 3) {
                $results[$i].result_code = [int]$dl.ResultCode
                $results[$i].hresult = Format-HResult $dl.HResult
            }
            Save-Status
        }

        $state.phase = 'installing'
        Save-Status
        for ($i = 0; $i -lt $selected.Count; $i++) {
            if ($results[$i].result_code -ne 0) { continue }
            $one = New-Object -ComObject Microsoft.Update.UpdateColl
            $null = $one.Add($selected.Item($i))
            $installer = $session.CreateUpdateInstaller()
            $installer.Updates = $one
            $res = $installer.Install()
            $ur = $res.GetUpdateResult(0)
            $results[$i].result_code = [int]$ur.ResultCode
            $results[$i].hresult = Format-HResult $ur.HResult
            if ($res.RebootRequired) { $state.reboot_required = $true }
            Save-Status
        }
    }
    $state.phase = 'done'
    Save-Status
    $code = 0
} catch {
    $state.phase = 'failed'
    $state.error = $_.Exception.Message + ' (' + (Format-HResult $_.Exception.HResult) + ')'
    Save-Status
    $code = 1
} finally {
    $beat.Stop()
    $beat.Dispose()
}
exit $code
