# patchrun-script: install-status
# Reads the installer's status file for a run and says whether its task is
# still running. $PatchrunArgs carries run_id.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

try {
    $runId = [string]$PatchrunArgs.run_id
    if ($runId -notmatch '^[A-Za-z0-9-]+$') { throw "bad run id '$runId'" }
    $taskName = 'patchrun-' + $runId
    $workDir = Join-Path $env:ProgramData ('patchrun\' + $runId)
    $statusPath = Join-Path $workDir 'status.json'
    $heartbeatPath = Join-Path $workDir 'heartbeat.txt'

    $taskState = 'Missing'
    try {
        $task = Get-ScheduledTask -TaskName $taskName -ErrorAction Stop
        $taskState = [string]$task.State
    } catch [System.Management.Automation.CommandNotFoundException] {
        $out = & schtasks.exe /Query /TN $taskName /FO CSV /NH 2>$null
        if ($LASTEXITCODE -eq 0) {
            $taskState = 'Ready'
            if ([string]$out -match '"Running"') { $taskState = 'Running' }
        }
    } catch {
        $taskState = 'Missing'
    }

    $status = $null
    if (Test-Path -LiteralPath $statusPath) {
        $status = Get-Content -LiteralPath $statusPath -Raw | ConvertFrom-Json
        if (Test-Path -LiteralPath $heartbeatPath) {
            $beat = (Get-Content -LiteralPath $heartbeatPath -Raw).Trim()
            if ($beat -gt [string]$status.heartbeat) { $status.heartbeat = $beat }
        }
    }
    Write-PatchrunResult -Result ([ordered]@{
        now          = [DateTime]::UtcNow.ToString('o')
        found        = ($null -ne $status)
        task_state   = $taskState
        task_running = ($taskState -eq 'Running' -or $taskState -eq 'Queued')
        status       = $status
    })
    exit 0
} catch {
    $hr = [int64]$_.Exception.HResult -band 4294967295
    Write-PatchrunResult -Result ([ordered]@{ error = $_.Exception.Message; hresult = ('0x{0:X8}' -f $hr) })
    exit 1
}
