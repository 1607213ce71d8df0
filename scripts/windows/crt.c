/* The static part of the MSVC C runtime that Rust's x86_64-pc-windows-msvc target expects
 * from msvcrt.lib, for build scripts and proc-macros linked by rust-lld under Wine
 * (scripts/windows-check). Compiled with mingw-w64's gcc; the import stubs themselves come
 * from mingw-w64's libmsvcrt.a and a small dlltool library (the .drectve line below).
 * Microsoft's own CRT cannot be fetched here, and these few symbols are all a check needs. */
#include <windows.h>

/* Built three times into three archive members, so that a DLL (a proc-macro) does not pull in
 * the executable's entry point and its reference to main. */
#if defined(CRT_EXE)
int main(int argc, char **argv);

/* Rust's std reads its arguments from GetCommandLineW, so main needs none. */
int mainCRTStartup(void) { ExitProcess((UINT)main(0, 0)); }

#elif defined(CRT_DLL)
BOOL WINAPI _DllMainCRTStartup(HINSTANCE h, DWORD reason, LPVOID reserved) {
    (void)h; (void)reason; (void)reserved;
    return TRUE;
}

#else

/* Set by the MSVC CRT when floating point is used; only its presence matters. */
int _fltused = 0x9875;

/* The TLS directory (tlssup.obj in MSVC): std's thread locals and TLS callbacks need it. */
ULONG _tls_index = 0;
__attribute__((section(".tls"))) char _tls_start = 0; /* sorts before every .tls$ */
__attribute__((section(".tls$ZZZ"))) char _tls_end = 0;
__attribute__((section(".CRT$XLA"))) PIMAGE_TLS_CALLBACK __xl_a = 0;
__attribute__((section(".CRT$XLZ"))) PIMAGE_TLS_CALLBACK __xl_z = 0;
const IMAGE_TLS_DIRECTORY _tls_used = {
    (ULONG_PTR)&_tls_start, (ULONG_PTR)&_tls_end, (ULONG_PTR)&_tls_index,
    (ULONG_PTR)(&__xl_a + 1), 0, 0};

__asm__(
    /* Pull in the import libraries for the DLL half of the runtime. */
    ".section .drectve\n"
    ".ascii \" -defaultlib:mingw_msvcrt -defaultlib:crt_extra -defaultlib:mingw_ucrtbase\"\n"
    /* type_info's vtable: panic_unwind's C++-style exception descriptor points at it. */
    ".section .rdata,\"dr\"\n"
    ".globl \"??_7type_info@@6B@\"\n"
    ".p2align 3\n"
    "\"??_7type_info@@6B@\": .quad 0, 0\n"
    /* __chkstk: touch each page of a large stack frame in order (size in rax), as MSVC's. */
    ".text\n"
    ".globl __chkstk\n"
    "__chkstk:\n"
    "  pushq %rcx\n"
    "  pushq %rax\n"
    "  cmpq $0x1000, %rax\n"
    "  leaq 24(%rsp), %rcx\n"
    "  jb 1f\n"
    "2:\n"
    "  subq $0x1000, %rcx\n"
    "  orq $0x0, (%rcx)\n"
    "  subq $0x1000, %rax\n"
    "  cmpq $0x1000, %rax\n"
    "  ja 2b\n"
    "1:\n"
    "  subq %rax, %rcx\n"
    "  orq $0x0, (%rcx)\n"
    "  popq %rax\n"
    "  popq %rcx\n"
    "  ret\n");
#endif
