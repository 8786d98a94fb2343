# patchrun-script: facts
# Reports OS facts, the boot identity and every pending-reboot signal,
# each one separately, so the report can say which signal fired; the
# architecture, uptime, newest installed hotfix and the IP addresses.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Test-RegistryKey([string]$Path) {
    return [bool](Test-Path -LiteralPath $Path)
}

function Get-RegistryValue([string]$Path, [string]$Name) {
    $item = Get-ItemProperty -LiteralPath $Path -Name $Name -ErrorAction SilentlyContinue
    if ($null -eq $item) { return $null }
    return $item.$Name
}

try {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $identity = [Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object Security.Principal.WindowsPrincipal($identity)
    $isAdmin = $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)

    $rename = Get-RegistryValue 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' 'PendingFileRenameOperations'
    $volatile = Get-RegistryValue 'HKLM:\SOFTWARE\Microsoft\Updates' 'UpdateExeVolatile'

    $arch = $env:PROCESSOR_ARCHITEW6432
    if (-not $arch) { $arch = $env:PROCESSOR_ARCHITECTURE }
    $uptime = [int64]((Get-Date) - $os.LastBootUpTime).TotalSeconds

    # InstalledOn is a date (no time of day), missing on some entries.
    $lastFix = Get-HotFix -ErrorAction SilentlyContinue |
        Where-Object { $null -ne $_.InstalledOn } |
        Sort-Object -Property InstalledOn -Descending |
        Select-Object -First 1
    $lastFixDate = ''
    $lastFixID = ''
    if ($null -ne $lastFix) {
        $lastFixDate = $lastFix.InstalledOn.ToString('yyyy-MM-dd')
        $lastFixID = [string]$lastFix.HotFixID
    }

    # Address/subnet pairs: an IPv4 mask or an IPv6 prefix length.
    $addresses = @()
    foreach ($cfg in @(Get-CimInstance -ClassName Win32_NetworkAdapterConfiguration -Filter 'IPEnabled = True')) {
        $ips = @($cfg.IPAddress)
        $subnets = @($cfg.IPSubnet)
        for ($i = 0; $i -lt $ips.Count; $i++) {
            $addresses += ('{0}/{1}' -f $ips[$i], $subnets[$i])
        }
    }

    $facts = [ordered]@{
        hostname            = $env:COMPUTERNAME
        caption             = [string]$os.Caption
        version             = [string]$os.Version
        build               = [string]$os.BuildNumber
        ps_version          = $PSVersionTable.PSVersion.ToString()
        is_admin            = [bool]$isAdmin
        user                = $identity.Name
        last_boot           = $os.LastBootUpTime.ToUniversalTime().ToString('o')
        wu_reboot_required  = Test-RegistryKey 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
        cbs_reboot_pending  = Test-RegistryKey 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
        pending_file_rename = ($null -ne $rename -and @($rename).Count -gt 0)
        update_exe_volatile = ($null -ne $volatile -and [int]$volatile -ne 0)
        arch                = [string]$arch
        uptime_seconds      = $uptime
        last_hotfix         = $lastFixDate
        last_hotfix_id      = $lastFixID
        addresses           = @($addresses)
    }
    Write-PatchrunResult -Result $facts
    exit 0
} catch {
    $hr = [int64]$_.Exception.HResult -band 4294967295
    Write-PatchrunResult -Result ([ordered]@{ error = $_.Exception.Message; hresult = ('0x{0:X8}' -f $hr) })
    exit 1
}
