# patchrun-script: ready
# After a reboot the servicing stack may still be finishing updates: report
# whether it is idle (CBS ServicingInProgress unset, TrustedInstaller not
# running a transaction).
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

try {
    $cbs = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing'
    $servicing = $false
    $value = Get-ItemProperty -LiteralPath $cbs -Name 'ServicingInProgress' -ErrorAction SilentlyContinue
    if ($null -ne $value -and [int]$value.ServicingInProgress -gt 1) { $servicing = $true }
    $ti = Get-Service -Name 'TrustedInstaller' -ErrorAction SilentlyContinue
    $tiState = 'Missing'
    if ($null -ne $ti) { $tiState = [string]$ti.Status }
    $busy = $servicing -or $tiState -eq 'StartPending' -or $tiState -eq 'StopPending'
    Write-PatchrunResult -Result ([ordered]@{
        servicing_in_progress = $servicing
        trusted_installer     = $tiState
        idle                  = (-not $busy)
    })
    exit 0
} catch {
    $hr = [int64]$_.Exception.HResult -band 4294967295
    Write-PatchrunResult -Result ([ordered]@{ error = $_.Exception.Message; hresult = ('0x{0:X8}' -f $hr) })
    exit 1
}
