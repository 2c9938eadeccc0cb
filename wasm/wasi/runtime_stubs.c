/* The few libc entry points that emscripten 3.1.6 implements in its JS runtime. A STANDALONE_WASM module would
 * import them from "env", which no WASI host provides (instantiation fails), so they are defined here. Only
 * ggml's search for dynamically loaded backends reaches the first five; a static build has nothing to load, and
 * the answers say so: no library, no such file, no directory listing. getentropy (std::random_device) takes its
 * bytes from WASI random_get. */
#include <errno.h>
#include <stddef.h>
#include <wasi/api.h>

struct dso;

void* _dlopen_js(struct dso* handle) {
    (void)handle;
    return 0;
}

void* _dlsym_js(struct dso* handle, const char* symbol) {
    (void)handle;
    (void)symbol;
    return 0;
}

long __syscall_getcwd(long buffer, long size) {
    if (size < 2) return -ERANGE;
    ((char*)buffer)[0] = '/';
    ((char*)buffer)[1] = '\0';
    return 2;
}

long __syscall_stat64(long path, long buffer) {
    (void)path;
    (void)buffer;
    return -ENOENT;
}

long __syscall_getdents64(long fd, long entries, long count) {
    (void)fd;
    (void)entries;
    (void)count;
    return -ENOSYS;
}

int getentropy(void* buffer, size_t length) {
    if (length > 256) {
        errno = EIO;
        return -1;
    }
    if (__wasi_random_get((uint8_t*)buffer, length) != __WASI_ERRNO_SUCCESS) {
        errno = EIO;
        return -1;
    }
    return 0;
}
