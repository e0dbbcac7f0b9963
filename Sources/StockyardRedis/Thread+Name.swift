import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension Thread {
    /// Names the calling thread as `top -H`, `perf` and `/proc` show it; Linux keeps the first
    /// 15 bytes. Call it from the thread itself. Foundation's `name` does not reliably reach the
    /// system thread on Linux, set before `start()` or even from inside.
    public static func nameCurrent(_ name: String) {
        let shown = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        #if os(Linux)
        // The calling thread's name is the file `/proc/thread-self/comm`.
        let file = open("/proc/thread-self/comm", O_WRONLY)
        guard file >= 0 else { return }
        _ = shown.withCString { write(file, $0, strlen($0)) }
        close(file)
        #else
        Thread.current.name = shown
        #endif
    }
}
