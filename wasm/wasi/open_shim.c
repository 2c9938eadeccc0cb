/* Lets a STANDALONE_WASM module open files. Emscripten's standalone libc answers open() only for the standard
 * streams (its __syscall_open is weak and returns EPERM for everything else), so the model file in the worker's
 * preopened directory could not be read. This strong definition maps open() to WASI path_open, relative to the
 * preopened directory whose name prefixes the path; read, seek and close already go through WASI. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define FIRST_PREOPEN_FD 3
#define MAX_PREOPENS 16

/* Finds the preopened directory that holds `path`, and where the relative part of the path starts. */
static int find_preopen(const char* path, const char** relative) {
    for (__wasi_fd_t fd = FIRST_PREOPEN_FD; fd < FIRST_PREOPEN_FD + MAX_PREOPENS; ++fd) {
        __wasi_prestat_t prestat;
        if (__wasi_fd_prestat_get(fd, &prestat) != __WASI_ERRNO_SUCCESS) break;
        if (prestat.pr_type != __WASI_PREOPENTYPE_DIR) continue;
        size_t length = prestat.u.dir.pr_name_len;
        char name[256];
        if (length >= sizeof(name)) continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t*)name, length) != __WASI_ERRNO_SUCCESS) continue;
        name[length] = '\0';
        while (length > 1 && name[length - 1] == '/') name[--length] = '\0';
        if (strcmp(name, "/") == 0 || strcmp(name, ".") == 0) {
            *relative = path + (path[0] == '/' ? 1 : 0);
            return (int)fd;
        }
        if (strncmp(path, name, length) == 0 && (path[length] == '/' || path[length] == '\0')) {
            *relative = path + length + (path[length] == '/' ? 1 : 0);
            if (**relative == '\0') *relative = ".";
            return (int)fd;
        }
    }
    return -1;
}

long __syscall_open(const char* path, long flags, ...) {
    if (!strcmp(path, "/dev/stdin")) return STDIN_FILENO;
    if (!strcmp(path, "/dev/stdout")) return STDOUT_FILENO;
    if (!strcmp(path, "/dev/stderr")) return STDERR_FILENO;
    const char* relative = NULL;
    int directory = find_preopen(path, &relative);
    if (directory < 0) return -ENOENT;
    if ((flags & O_ACCMODE) != O_RDONLY) return -EROFS; /* the servers only read models */
    __wasi_rights_t rights = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |
                             __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_ADVISE;
    __wasi_oflags_t oflags = (flags & O_DIRECTORY) ? __WASI_OFLAGS_DIRECTORY : 0;
    __wasi_fd_t fd;
    __wasi_errno_t error = __wasi_path_open((__wasi_fd_t)directory, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW,
                                            relative, strlen(relative), oflags, rights, 0, 0, &fd);
    if (error != __WASI_ERRNO_SUCCESS) return -(long)error;
    return (long)fd;
}
