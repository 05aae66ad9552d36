// qkv: entry point. All work happens in the library (app/cli.cpp and below).
#include "app/cli.h"

int main(int argc, char** argv) { return qkv::run_cli(argc, argv); }
