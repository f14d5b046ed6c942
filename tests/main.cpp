#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#ifdef CASEKIT_MIMALLOC
#include <mimalloc.h>

#include <cstdlib>
#include <memory>
#include <string>

// The build links mimalloc to take malloc and free for the whole process (CMakeLists.txt);
// this fails if the link order ever lets glibc's malloc answer first.
TEST_CASE("the process allocates through mimalloc") {
  void* p = std::malloc(64);
  CHECK(mi_is_in_heap_region(p));
  std::free(p);
  const auto s = std::make_unique<std::string>(1000, 'x');
  CHECK(mi_is_in_heap_region(s->data()));
}
#endif
