// Does not compile: an undeclared identifier.
void f() { undeclared_function(); }
