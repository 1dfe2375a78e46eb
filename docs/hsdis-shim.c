/*
 * Lets JDK 17+ print C2's code (-XX:+PrintAssembly) with Debian's hsdis plugin, libhsdis0-fcml,
 * which exports only the old entry point decode_instructions; newer JDKs look up
 * decode_instructions_virtual. This forwards one to the other over the code buffer.
 *
 *   apt-get install libhsdis0-fcml
 *   gcc -shared -fPIC -O2 -o hsdis-amd64.so docs/hsdis-shim.c -ldl
 *   cp hsdis-amd64.so "$JAVA_HOME/lib/server/"
 *   java -XX:+UnlockDiagnosticVMOptions '-XX:CompileCommand=print,*.invokeStatic' ...
 *
 * (The vector kernel's passes are compiled into LambdaForm$DMH...::invokeStatic, the method
 * handles they are called through.) FCML stops at some AVX-512 instructions ("Disassembling
 * failed with error code 15"), which ends that method's listing. docs/performance.md, "2026-12-07,
 * second stop", says what it was used for.
 */
#include <dlfcn.h>
#include <stdint.h>

typedef void *(*event_cb)(void *, const char *, void *);
typedef int (*printf_cb)(void *, const char *, ...);
typedef void *(*old_decode)(void *, void *, event_cb, void *, printf_cb, void *, const char *);

void *decode_instructions_virtual(uintptr_t start_va, uintptr_t end_va, unsigned char *buffer,
                                  uintptr_t length, event_cb ev, void *evs, printf_cb pr, void *prs,
                                  const char *options, int newline) {
  static old_decode decode;
  (void) end_va;
  (void) newline;
  if (!decode) {
    void *lib = dlopen("libhsdis.so.0", RTLD_NOW);
    if (!lib) return (void *) start_va;
    decode = (old_decode) dlsym(lib, "decode_instructions");
    if (!decode) return (void *) start_va;
  }
  unsigned char *end = decode(buffer, buffer + length, ev, evs, pr, prs, options);
  return (void *) (start_va + (uintptr_t) (end - buffer));
}
