// ThreadSanitizer suppressions for every binary that serves HTTP
// (--config=tsan; compiled only there).
//
// TSan sees only instrumented code, and Debian's libpistache is not. When an
// answer is written from another thread (an asynchronous route), Pistache's
// reactor drops the last reference to the write's promise; the atomic
// reference count it decremented there is invisible to TSan, so the free
// looks unsynchronised. The same goes for the response writer's weak
// reference to its connection: dropped on the thread that answered, its
// control block freed by Pistache when the connection goes. The patterns name
// those destructors (our side of the report), not the library: every handler runs on a stack that
// starts in libpistache, and those races must still be reported.
//
// TSan reads this function only from the executable itself, hence its own
// always-linked static library (BUILD.bazel).
#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions() {
  return "race:Pistache::Async::Promise<*>::~Promise\n"
         "race:Pistache::Http::ResponseWriter::~ResponseWriter\n";
}
#endif
