// Serial reference builds (-DCONCGUARD_SERIAL) join each thread as soon as
// it starts, so the program runs one thread at a time.
#pragma once
#ifdef CONCGUARD_SERIAL
#define SERIAL_JOIN(t) (t).join()
#define SERIAL_WAIT(f) (f).wait()
#else
#define SERIAL_JOIN(t) (void)0
#define SERIAL_WAIT(f) (void)0
#endif
