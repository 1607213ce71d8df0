# The Windows smoke of scripts/windows-test, for a real Windows (the hosted runner of
# .github/workflows/windows.yml): --version, demo, check against stand-ins on 127.0.0.1, local
# naming the holder of a port this script holds, and a profile saved as UTF-16 with a BOM and
# CRLF at a C:\-style path. Everything goes to 127.0.0.1. Exits 1 on any failure.
# Not run by the local test command (Linux has no PowerShell here; Wine runs the bash smoke).
param([Parameter(Mandatory = $true)][string]$Exe)
$ErrorActionPreference = 'Stop'
$failures = 0
$passes = 0
function Pass($what) { $script:passes++; Write-Host "  ok   $what" }
function Fail($what) { $script:failures++; Write-Host "  FAIL $what" }
function States($json) {
    ($json | ConvertFrom-Json).cells | Sort-Object check | ForEach-Object { "$($_.check) $($_.state)" }
}

$version = & $Exe --version
if ($LASTEXITCODE -eq 0 -and $version -match '^mve-audit [0-9.]+ \(commit [0-9a-f]{12}') { Pass "--version: $version" }
else { Fail "--version: $version" }

$demo = & $Exe demo --format json --quiet
$want = 'ftp open', 'http verified', 'https verified', 'npap open|filtered', 'raw closed', 'snmp verified'
$got = States ($demo -join "`n")
if ($LASTEXITCODE -eq 0 -and (($got -join ',') -eq ($want -join ','))) { Pass "demo: exit 0, $($got -join ', ')" }
else { Fail "demo: exit $LASTEXITCODE, $($got -join ', ')" }

# Stand-ins: an open TCP port and a silent UDP port held by this script; TCP 47002 and UDP
# 47004 are unused (closed). Windows Firewall does not filter loopback, so no filtered case.
$tcp = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 47001)
$tcp.Start()
$udp = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 47005))
try {
    $check = & $Exe check --printers 127.0.0.1 --checks raw,http,npap,xmlnt --port raw=47001 `
        --port http=47002 --port npap=47004 --port xmlnt=47005 --format json
    $code = $LASTEXITCODE
    $got = States ($check -join "`n")
    $want = 'http closed', 'npap closed', 'raw open', 'xmlnt open|filtered'
    if ($code -eq 1 -and (($got -join ',') -eq ($want -join ','))) { Pass "check: exit 1, $($got -join ', ')" }
    else { Fail "check: exit $code, $($got -join ', ')" }

    # local names this PowerShell as the holder of the UDP port it holds.
    $local = (& $Exe local --port udp/47005 --port tcp/47001 --format json) -join "`n" | ConvertFrom-Json
    $held = $local.ports | Where-Object { $_.number -in 47001, 47005 }
    $named = @($held | Where-Object { $_.holders.pid -contains $PID })
    if ($named.Count -eq 2) { Pass "local: both ports held by PID $PID ($($named[0].holders[0].name))" }
    else { Fail "local: $($held | ConvertTo-Json -Depth 4 -Compress)" }

    # A profile as Notepad saves it: UTF-16 LE with a BOM, CRLF; a list beside it; C:\ paths.
    $dir = Join-Path $env:TEMP 'mve-audit-smoke'
    New-Item -ItemType Directory -Force $dir | Out-Null
    [System.IO.File]::WriteAllText("$dir\fleet.txt", "127.0.0.1`r`n")
    $profileText = "# Saved by Notepad`r`n[targets]`r`nprinters = [`"@fleet.txt`"]`r`n`r`n[checks]`r`nonly = [`"raw`", `"npap`"]`r`n`r`n[ports]`r`nraw = 47001`r`nnpap = 47004`r`n"
    [System.IO.File]::WriteAllText("$dir\site.toml", $profileText, [System.Text.UnicodeEncoding]::new($false, $true))
    & $Exe check --profile "$dir\site.toml" --format json --output "$dir\report.json" | Out-Null
    $code = $LASTEXITCODE
    $got = States (Get-Content -Raw "$dir\report.json")
    if ($code -eq 1 -and (($got -join ',') -eq 'npap closed,raw open')) { Pass "UTF-16 profile at $dir\site.toml" }
    else { Fail "profile: exit $code, $($got -join ', ')" }
}
finally {
    $tcp.Stop()
    $udp.Close()
}
Write-Host "windows smoke: $passes passed, $failures failed"
if ($failures -ne 0) { exit 1 }
