# patchrun-script: broken
# A deliberately broken script: the grammar check must reject it.
$ErrorActionPreference = 'Stop'
function Get-Thing( {
    $x = @{ a = 1
}
if ($x -eq ) { 'never' }
exit 0
