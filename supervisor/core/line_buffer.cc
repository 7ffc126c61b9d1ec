// Turning a byte stream into whole lines.
//
// A pipe delivers bytes in whatever pieces the writer's write(2) calls and
// the kernel's buffering happen to produce, so a line may arrive in several
// reads and one read may hold many lines. The buffer keeps only the
// unterminated tail of the stream; complete lines are handed out straight
// from the caller's bytes when nothing is pending, so the common case (a
// read that ends on a newline) copies nothing.
//
// The tail never holds more than kMaxLine bytes: a line longer than that is
// handed out in kMaxLine pieces as soon as we know it is longer. A line of
// exactly kMaxLine bytes is still one line, because we wait for one more
// byte before deciding. Bytes are passed through untouched ('\r' included),
// since the supervisor relays logs and must not reinterpret them.
#include "line_buffer.h"

namespace sv {

// feed() is in the header (a template).

void LineBuffer::finish(const Emit& emit) {
    if (partial_.empty()) return;
    // Hand out a copy, so an emit that feeds this buffer again sees it empty.
    std::string last;
    last.swap(partial_);
    emit(last);
}

}  // namespace sv
