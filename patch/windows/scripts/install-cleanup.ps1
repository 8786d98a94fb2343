# patchrun-script: install-cleanup
# Removes a run's scheduled task and work directory. $PatchrunArgs carries
# run_id. Safe to run twice.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

try {
    $runId = [string]$PatchrunArgs.run_id
    if ($runId -notmatch '^[A-Za-z0-9-]+$') { throw "bad run id '$runId'" }
    $taskName = 'patchrun-' + $runId
    $workDir = Join-Path $env:ProgramData ('patchrun\' + $runId)
    try {
        Unregister-ScheduledTask -TaskName $taskName -Confirm:$false -ErrorAction Stop
    } catch [System.Management.Automation.CommandNotFoundException] {
        & schtasks.exe /Delete /F /TN $taskName 2>$null | Out-Null
    } catch {
        # Already gone.
    }
    if (Test-Path -LiteralPath $workDir) {
        Remove-Item -LiteralPath $workDir -Recurse -Force
    }
    Write-PatchrunResult -Result ([ordered]@{ removed = $true })
    exit 0
} catch {
    $hr = [int64]$_.Exception.HResult -band 4294967295
    Write-PatchrunResult -Result ([ordered]@{ error = $_.Exception.Message; hresult = ('0x{0:X8}' -f $hr) })
    exit 1
}
