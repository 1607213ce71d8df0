/* Wine 8 has no bcryptprimitives.dll, whose ProcessPrng Rust's std (1.78 and later) calls at
 * start for HashMap keys. This stand-in, built with mingw-w64 for scripts/windows-check's Wine
 * prefix only, fills the buffer from RtlGenRandom (advapi32's SystemFunction036). */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
