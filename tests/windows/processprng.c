/* Test-only stand-in for bcryptprimitives.dll, which Debian 12's Wine 8 lacks: Rust's std on Windows
 * imports bcryptprimitives!ProcessPrng for its random numbers. Built with mingw-w64 by scripts/test and
 * placed beside awskeep.exe under Wine only; never shipped. It answers with RtlGenRandom
 * (advapi32!SystemFunction036), the system CSPRNG Wine does implement. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
