# patchrun-script: boot-id
# The boot identity is LastBootUpTime as an exact, culture-free string.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

try {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    Write-PatchrunResult -Result ([ordered]@{ last_boot = $os.LastBootUpTime.ToUniversalTime().ToString('o') })
    exit 0
} catch {
    $hr = [int64]$_.Exception.HResult -band 4294967295
    Write-PatchrunResult -Result ([ordered]@{ error = $_.Exception.Message; hresult = ('0x{0:X8}' -f $hr) })
    exit 1
}
