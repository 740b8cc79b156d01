"""cppcheck's diagnostics about views into containers: iterators, pointers
and references that dangle or that a change of the container invalidates,
the category concguard-dangling-container-view covers. Shared by the
cppcheck comparison (test/cppcheck-compare) and the corpus (test/corpus)."""

CPPCHECK_VIEW_IDS = frozenset({
    "invalidContainer", "invalidContainerLoop", "invalidContainerReference",
    "invalidIterator1", "invalidIterator2", "eraseDereference",
    "derefInvalidIterator", "invalidLifetime", "danglingLifetime",
    "danglingReference", "danglingTempReference", "danglingTemporaryLifetime",
    "returnDanglingLifetime",
})
