#!/bin/sh
# The lab builders' compile step: a stand-in for `make`, so that a build can fail before its tests.
# Scenario (from $LAB_DIR/scenario/<builder> or .../default):
#   compile: a compiler error, exit 2;
#   disk: a write fails with ENOSPC (to /dev/full, so the message is the C library's own), exit 2.
B=$(printf %s "$1" | tr -c 'A-Za-z0-9._-' '_')
# A change's lab_scenario property (master.cfg passes it as LAB_CHANGE_SCENARIO) comes first.
S=${LAB_CHANGE_SCENARIO:-$(cat "$LAB_DIR/scenario/$B" 2>/dev/null || cat "$LAB_DIR/scenario/default" 2>/dev/null || echo pass)}
echo "gcc -c -fno-strict-overflow -Wsign-compare -g -Og -Wall -std=c11 -I./Include -o Objects/longobject.o Objects/longobject.c"
if [ "$S" = compile ]; then
  echo "gcc -c -fno-strict-overflow -Wsign-compare -g -Og -Wall -std=c11 -I./Include -o Modules/_ssl.o ./Modules/_ssl.c"
  echo "./Modules/_ssl.c: In function '_ssl__SSLSocket_read_impl':"
  echo "./Modules/_ssl.c:2561:9: error: implicit declaration of function 'SSL_read_ex'; did you mean 'SSL_read'? [-Werror=implicit-function-declaration]"
  echo " 2561 |     if (SSL_read_ex(self->ssl, mem, len, &count) <= 0) {"
  echo "      |         ^~~~~~~~~~~"
  echo "cc1: some warnings being treated as errors"
  echo "make: *** [Makefile:3067: Modules/_ssl.o] Error 1"
  exit 2
fi
if [ "$S" = disk ]; then
  echo "gcc -o python Programs/python.o -L. -lpython3.14 -ldl -lm"
  head -c 1048576 /dev/zero > /dev/full || { echo "make: *** [Makefile:1012: python] Error 1"; exit 2; }
fi
echo "Python build finished successfully!"
