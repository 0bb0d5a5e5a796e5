/*
 * uwplug.c - a plugin loaded, unloaded and replaced at the same address by
 * a build with other unwind rules (tests/test_diag_c.c): uwplug_call(cb,
 * arg) calls cb(arg) from a frame of UWPLUG_FRAME bytes.  Written in asm
 * so both builds have the same code layout (the immediates are 4 bytes
 * either way), hence the same return address, and differ only in the
 * frame size their CFI describes.
 */
#ifndef UWPLUG_FRAME
#error "UWPLUG_FRAME: the frame size, 8 mod 16 and at least 128"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

__asm__(
    ".text\n"
    ".globl uwplug_call\n"
    ".type uwplug_call, @function\n"
    "uwplug_call:\n"
    ".cfi_startproc\n"
    "subq $" STR(UWPLUG_FRAME) ", %rsp\n"
    ".cfi_adjust_cfa_offset " STR(UWPLUG_FRAME) "\n"
    "movq %rdi, %rax\n"
    "movq %rsi, %rdi\n"
    "call *%rax\n"
    "addq $" STR(UWPLUG_FRAME) ", %rsp\n"
    ".cfi_adjust_cfa_offset -" STR(UWPLUG_FRAME) "\n"
    "ret\n"
    ".cfi_endproc\n"
    ".size uwplug_call, .-uwplug_call\n");
