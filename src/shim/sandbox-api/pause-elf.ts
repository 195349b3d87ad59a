/**
 * The smallest x86-64 Linux executable that waits for a signal: a static ELF64 with one PT_LOAD segment whose
 * code is `loop: mov eax, 34 (pause); syscall; jmp loop`. The Sandbox API pod's infra container (pod-infra.ts)
 * names it as its process: Microsoft's GCS creates every container with `runc create`, and runc's init looks
 * the process's executable up in the rootfs at create time, so the empty rootfs a pod without a pause image
 * has would fail there. The container is never started: this program is found, not run.
 *
 * Layout (ELF-64 Object File Format 1.5; System V AMD64 psABI):
 *   0x00  ELF header (64 bytes): 7f 'E' 'L' 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV;
 *         e_type ET_EXEC, e_machine EM_X86_64 (62), e_entry = base + 120, e_phoff 64, e_ehsize 64,
 *         e_phentsize 56, e_phnum 1, no section headers
 *   0x40  program header (56 bytes): PT_LOAD, PF_R|PF_X, offset 0 → vaddr base, whole file, align 4 KiB
 *   0x78  code (9 bytes)
 */
const BASE = 0x400000;
const EHDR = 64;
const PHDR = 56;
/** mov eax, 34 (__NR_pause); syscall; jmp -9 */
const CODE = [0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7];

export const PAUSE_ELF_SIZE = EHDR + PHDR + CODE.length;

export function pauseElf(): Buffer {
  const b = Buffer.alloc(PAUSE_ELF_SIZE);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // magic, 64-bit, little endian, version 1, System V
  b.writeUInt16LE(2, 16); // e_type: ET_EXEC
  b.writeUInt16LE(62, 18); // e_machine: EM_X86_64
  b.writeUInt32LE(1, 20); // e_version
  b.writeBigUInt64LE(BigInt(BASE + EHDR + PHDR), 24); // e_entry
  b.writeBigUInt64LE(BigInt(EHDR), 32); // e_phoff
  b.writeUInt16LE(EHDR, 52); // e_ehsize
  b.writeUInt16LE(PHDR, 54); // e_phentsize
  b.writeUInt16LE(1, 56); // e_phnum
  b.writeUInt32LE(1, EHDR); // p_type: PT_LOAD
  b.writeUInt32LE(5, EHDR + 4); // p_flags: PF_R | PF_X
  b.writeBigUInt64LE(0n, EHDR + 8); // p_offset
  b.writeBigUInt64LE(BigInt(BASE), EHDR + 16); // p_vaddr
  b.writeBigUInt64LE(BigInt(BASE), EHDR + 24); // p_paddr
  b.writeBigUInt64LE(BigInt(PAUSE_ELF_SIZE), EHDR + 32); // p_filesz
  b.writeBigUInt64LE(BigInt(PAUSE_ELF_SIZE), EHDR + 40); // p_memsz
  b.writeBigUInt64LE(0x1000n, EHDR + 48); // p_align
  b.set(CODE, EHDR + PHDR);
  return b;
}
