# patchrun-script: install-leftovers
# Lists what earlier runs left on the host: every patchrun-* scheduled task
# and every work directory under ProgramData\patchrun, with the task's state
# and the installer's last heartbeat. A run killed before its cleanup (a
# second Ctrl-C, SIGKILL) leaves both behind. Changes nothing: the backend
# decides what is stale and removes it with install-cleanup.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

try {
    $runs = @{}
    function Get-Run([string]$Id) {
        if (-not $runs.ContainsKey($Id)) {
            $runs[$Id] = [ordered]@{ run_id = $Id; task_state = ''; heartbeat = ''; dir_written = '' }
        }
        return $runs[$Id]
    }

    try {
        foreach ($task in @(Get-ScheduledTask -TaskName 'patchrun-*' -ErrorAction Stop)) {
            $run = Get-Run $task.TaskName.Substring('patchrun-'.Length)
            $run.task_state = [string]$task.State
        }
    } catch [System.Management.Automation.CommandNotFoundException] {
        # Old hosts without the ScheduledTasks module.
        $rows = & schtasks.exe /Query /FO CSV /NH 2>$null
        foreach ($row in @($rows | ConvertFrom-Csv -Header 'TaskName', 'NextRun', 'Status')) {
            $name = ([string]$row.TaskName).TrimStart('\')
            if ($name -like 'patchrun-*') {
                $run = Get-Run $name.Substring('patchrun-'.Length)
                $run.task_state = [string]$row.Status
            }
        }
    } catch {
        # No task matches.
    }

    $root = Join-Path $env:ProgramData 'patchrun'
    if (Test-Path -LiteralPath $root) {
        foreach ($dir in @(Get-ChildItem -LiteralPath $root -Directory)) {
            $run = Get-Run $dir.Name
            $run.dir_written = $dir.LastWriteTimeUtc.ToString('o')
            $statusPath = Join-Path $dir.FullName 'status.json'
            $heartbeatPath = Join-Path $dir.FullName 'heartbeat.txt'
            try {
                if (Test-Path -LiteralPath $statusPath) {
                    $run.heartbeat = [string](Get-Content -LiteralPath $statusPath -Raw | ConvertFrom-Json).heartbeat
                }
                if (Test-Path -LiteralPath $heartbeatPath) {
                    $beat = (Get-Content -LiteralPath $heartbeatPath -Raw).Trim()
                    if ($beat -gt $run.heartbeat) { $run.heartbeat = $beat }
                }
            } catch {
                # Unreadable status: the directory's own time still tells its age.
            }
        }
    }

    Write-PatchrunResult -Result ([ordered]@{ now = [DateTime]::UtcNow.ToString('o'); runs = @($runs.Values) })
    exit 0
} catch {
    $hr = [int64]$_.Exception.HResult -band 4294967295
    Write-PatchrunResult -Result ([ordered]@{ error = $_.Exception.Message; hresult = ('0x{0:X8}' -f $hr) })
    exit 1
}
