#include "check.hpp"
int main(int c, char** v) { return test::main(c, v); }
