# patchrun-script: scan
# Lists applicable software updates with the Windows Update Agent searcher.
# Searching is allowed from a WinRM logon (downloading and installing are not).
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

try {
    $session = New-Object -ComObject Microsoft.Update.Session
    $session.ClientApplicationID = 'patchrun'
    $searcher = $session.CreateUpdateSearcher()
    $result = $searcher.Search("IsInstalled=0 and Type='Software' and IsHidden=0")
    $updates = @()
    foreach ($u in $result.Updates) {
        $kbs = @()
        foreach ($kb in $u.KBArticleIDs) { $kbs += [string]$kb }
        $cves = @()
        foreach ($c in $u.CveIDs) { $cves += [string]$c }
        $changed = ''
        if ($u.LastDeploymentChangeTime) { $changed = $u.LastDeploymentChangeTime.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ') }
        $cats = @()
        foreach ($c in $u.Categories) { $cats += [string]$c.Name }
        $updates += [ordered]@{
            id                = [string]$u.Identity.UpdateID
            title             = [string]$u.Title
            kbs               = $kbs
            severity          = [string]$u.MsrcSeverity
            categories        = $cats
            browse_only       = [bool]$u.BrowseOnly
            max_download_size = [int64]$u.MaxDownloadSize
            reboot_behavior   = [int]$u.InstallationBehavior.RebootBehavior
            cves              = $cves
            last_change       = $changed
        }
    }
    Write-PatchrunResult -Result ([ordered]@{ updates = $updates })
    exit 0
} catch {
    $hr = [int64]$_.Exception.HResult -band 4294967295
    Write-PatchrunResult -Result ([ordered]@{ error = $_.Exception.Message; hresult = ('0x{0:X8}' -f $hr) })
    exit 1
}
