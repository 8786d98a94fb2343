# patchrun-script: cancel-reboot
# Aborts the shutdown the reboot script scheduled, if it has not begun.
# shutdown.exe /a exits 0 when it aborted one, 1116 when none was scheduled
# (ERROR_NO_SHUTDOWN_IN_PROGRESS: it already began, or there was none).
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

try {
    & shutdown.exe /a 2>&1 | Out-Null
    Write-PatchrunResult -Result ([ordered]@{ exit = $LASTEXITCODE })
    exit 0
} catch {
    $hr = [int64]$_.Exception.HResult -band 4294967295
    Write-PatchrunResult -Result ([ordered]@{ error = $_.Exception.Message; hresult = ('0x{0:X8}' -f $hr) })
    exit 1
}
