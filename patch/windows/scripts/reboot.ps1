# patchrun-script: reboot
# Schedules a reboot $PatchrunArgs.delay_seconds out (shutdown /t) so this
# command can still answer.
# 1190: a shutdown is already scheduled (someone else's): abort it, retry once.
# 1115: a shutdown is already in progress: the reboot is happening anyway.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

try {
    $delay = [int]$PatchrunArgs.delay_seconds
    $first = 0
    $aborted = $false
    & shutdown.exe /r /t $delay /c "patchrun" 2>&1 | Out-Null
    $code = $LASTEXITCODE
    $first = $code
    if ($code -eq 1190) {
        & shutdown.exe /a 2>&1 | Out-Null
        $aborted = $true
        & shutdown.exe /r /t $delay /c "patchrun" 2>&1 | Out-Null
        $code = $LASTEXITCODE
    }
    Write-PatchrunResult -Result ([ordered]@{ first_exit = $first; exit = $code; aborted_other = $aborted })
    exit 0
} catch {
    $hr = [int64]$_.Exception.HResult -band 4294967295
    Write-PatchrunResult -Result ([ordered]@{ error = $_.Exception.Message; hresult = ('0x{0:X8}' -f $hr) })
    exit 1
}
