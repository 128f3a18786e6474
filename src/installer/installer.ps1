# Installs @APP@ @VERSION@ on Windows (written by cargo-multiarch @TOOL_VERSION@).
#
#   powershell -ExecutionPolicy Bypass -c "irm @BASE_URL@@APP@-installer.ps1 | iex"
#   .\@APP@-installer.ps1 -To C:\tools\bin
#
# Picks the archive built for this machine's CPU, downloads it from the release,
# checks its sha256 against the one written below (SHA256SUMS lists this script, so
# its signature covers what it installs), and moves its binaries into
# $env:CARGO_HOME\bin (else ~\.cargo\bin), or -To. It never asks for elevation and
# never edits PATH. Any failure stops with nothing installed.
param([string]$To = '')

$ErrorActionPreference = 'Stop'
$app = '@APP@'
$version = '@VERSION@'
$baseUrl = '@BASE_URL@'

# Most wanted first per platform.
$archives = @(
@ARCHIVES@
)

if (-not $To) {
    if ($env:CARGO_HOME) { $To = Join-Path $env:CARGO_HOME 'bin' }
    else { $To = Join-Path (Join-Path $HOME '.cargo') 'bin' }
}
$cpu = $env:PROCESSOR_ARCHITECTURE
if ($env:PROCESSOR_ARCHITEW6432) { $cpu = $env:PROCESSOR_ARCHITEW6432 }
$arch = switch ($cpu) { 'AMD64' { 'amd64' } 'ARM64' { 'arm64' } 'x86' { '386' } default { $cpu } }
$choice = $archives | Where-Object { $_.Platform -eq "windows/$arch" } | Select-Object -First 1
if (-not $choice) {
    $have = ($archives | ForEach-Object { $_.Platform }) -join ' '
    if (-not $have) { $have = 'none' }
    throw "$app $version has no build for windows/$arch; this release has: $have (hint: build it from source with ``cargo install --locked $app``)"
}

$tmp = Join-Path ([IO.Path]::GetTempPath()) ([IO.Path]::GetRandomFileName())
New-Item -ItemType Directory -Path $tmp | Out-Null
$staged = @()
try {
    $zip = Join-Path $tmp $choice.File
    Write-Host "$app-installer: downloading $($choice.File) ($($choice.Target))"
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
    Invoke-WebRequest -UseBasicParsing -Uri ($baseUrl + $choice.File) -OutFile $zip
    $got = (Get-FileHash -Algorithm SHA256 -LiteralPath $zip).Hash.ToLowerInvariant()
    if ($got -ne $choice.Sha256) {
        throw "$($choice.File) has sha256 $got, this installer expects $($choice.Sha256): refusing to install it"
    }
    $x = Join-Path $tmp 'x'
    Expand-Archive -LiteralPath $zip -DestinationPath $x
    foreach ($b in $choice.Binaries) {
        $src = Join-Path $x $b.Path
        $sum = (Get-FileHash -Algorithm SHA256 -LiteralPath $src).Hash.ToLowerInvariant()
        if ($sum -ne $b.Sha256) { throw "$($b.Path) in $($choice.File) has sha256 $sum, this installer expects $($b.Sha256)" }
    }
    New-Item -ItemType Directory -Force -Path $To | Out-Null
    foreach ($b in $choice.Binaries) {
        $name = Split-Path -Leaf $b.Path
        $part = Join-Path $To ".$name.installing"
        $staged += $part
        Copy-Item -LiteralPath (Join-Path $x $b.Path) -Destination $part -Force
    }
    foreach ($b in $choice.Binaries) {
        $name = Split-Path -Leaf $b.Path
        Move-Item -LiteralPath (Join-Path $To ".$name.installing") -Destination (Join-Path $To $name) -Force
        Write-Host "$app-installer: installed $(Join-Path $To $name)"
    }
    $staged = @()
    if (-not (($env:PATH -split ';') -contains $To)) {
        Write-Host "$app-installer: note: $To is not on PATH; add it to run the binaries by name"
    }
} finally {
    foreach ($p in $staged) { Remove-Item -LiteralPath $p -Force -ErrorAction SilentlyContinue }
    Remove-Item -LiteralPath $tmp -Recurse -Force -ErrorAction SilentlyContinue
}
