// The journal (src/journal.cpp) records entries in two global logs: one
// without a lock, one under its own mutex. src/scan.cpp calls them from the
// bodies of parallel algorithms.
#ifndef JOURNAL_H
#define JOURNAL_H

void record(int Entry);
void recordLocked(int Entry);
int countOf(int Entry);

#endif
