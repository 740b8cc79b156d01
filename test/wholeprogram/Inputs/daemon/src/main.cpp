#include "daemon.h"

int main() {
  Daemon D;
  D.start();
  D.add(2);
  D.stop();
  LockedDaemon L;
  L.start();
  L.add(2);
  L.stop();
}
