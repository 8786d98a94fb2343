# patchrun-script: install-start
# Windows Update refuses to download or install from a remote (WinRM) logon
# (E_ACCESSDENIED), so the installer runs as a one-off scheduled task under
# SYSTEM. This script prepares its work directory, registers the task and
# starts it. $PatchrunArgs carries run_id, update_ids and the installer text.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Write-JsonAtomic([string]$Path, $Value) {
    $tmp = $Path + '.tmp'
    $json = ConvertTo-Json -InputObject $Value -Depth 6 -Compress
    [IO.File]::WriteAllText($tmp, $json, (New-Object Text.UTF8Encoding($false)))
    Move-Item -LiteralPath $tmp -Destination $Path -Force
}

try {
    $runId = [string]$PatchrunArgs.run_id
    if ($runId -notmatch '^[A-Za-z0-9-]+$') { throw "bad run id '$runId'" }
    $taskName = 'patchrun-' + $runId
    $workDir = Join-Path $env:ProgramData ('patchrun\' + $runId)
    New-Item -ItemType Directory -Path $workDir -Force | Out-Null

    $installerText = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([string]$PatchrunArgs.installer))
    $installerPath = Join-Path $workDir 'installer.ps1'
    [IO.File]::WriteAllText($installerPath, $installerText, (New-Object Text.UTF8Encoding($true)))
    Write-JsonAtomic (Join-Path $workDir 'request.json') ([ordered]@{ update_ids = @($PatchrunArgs.update_ids) })
    Write-JsonAtomic (Join-Path $workDir 'status.json') ([ordered]@{
        phase     = 'queued'
        heartbeat = [DateTime]::UtcNow.ToString('o')
        updates   = @()
    })

    $psArgs = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "' + $installerPath + '"'
    $method = 'Register-ScheduledTask'
    try {
        $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument $psArgs -WorkingDirectory $workDir
        $principal = New-ScheduledTaskPrincipal -UserId 'NT AUTHORITY\SYSTEM' -LogonType ServiceAccount -RunLevel Highest
        $settings = New-ScheduledTaskSettingsSet -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -ExecutionTimeLimit (New-TimeSpan -Hours 4)
        Register-ScheduledTask -TaskName $taskName -Action $action -Principal $principal -Settings $settings -Force | Out-Null
        Start-ScheduledTask -TaskName $taskName
    } catch [System.Management.Automation.CommandNotFoundException] {
        # Old hosts without the ScheduledTasks module.
        $method = 'schtasks'
        $out = & schtasks.exe /Create /F /TN $taskName /RU SYSTEM /RL HIGHEST /SC ONCE /ST 00:00 /TR ('powershell.exe ' + $psArgs) 2>&1
        if ($LASTEXITCODE -ne 0) { throw "schtasks /Create failed: $out" }
        $out = & schtasks.exe /Run /TN $taskName 2>&1
        if ($LASTEXITCODE -ne 0) { throw "schtasks /Run failed: $out" }
    }
    Write-PatchrunResult -Result ([ordered]@{ task = $taskName; work_dir = $workDir; method = $method })
    exit 0
} catch {
    $hr = [int64]$_.Exception.HResult -band 4294967295
    Write-PatchrunResult -Result ([ordered]@{ error = $_.Exception.Message; hresult = ('0x{0:X8}' -f $hr) })
    exit 1
}
