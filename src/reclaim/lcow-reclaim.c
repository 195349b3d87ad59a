/*
 * lcow-reclaim.node: a Node-API addon with one function, reclaim(), that hands back to the kernel the memory
 * a process no longer uses (src/reclaim/idle-reclaim.ts decides when; README.md, "Memory reclaim"):
 *   1. v8::Isolate::LowMemoryNotification() on the calling thread's isolate: V8's memory-reducing full GC, the
 *      one its memory reducer runs ~8 s after start-up (shrinks the new space, compacts, releases pooled pages);
 *   2. glibc's malloc_trim(0): frees the malloc heap's unused pages, which glibc otherwise keeps.
 * Both are looked up with dlsym when called, so a Node without the V8 symbol or a libc without malloc_trim
 * (musl) loads the addon and reports what it could not do instead of failing to load or crashing.
 * Returns a uint32 bit set: 1 = the V8 notification ran, 2 = malloc_trim ran, 4 = malloc_trim released memory.
 *
 * Built on Linux by scripts/build-steps/15-reclaim-addon.mjs with the system C compiler; no Node headers are
 * needed: the five Node-API functions it calls are declared below as node_api.h declares them (a stable C ABI).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status; /* napi_ok == 0 */
typedef napi_value (*napi_callback)(napi_env, napi_callback_info);

extern napi_status napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
extern napi_status napi_set_named_property(napi_env, napi_value, const char *, napi_value);
extern napi_status napi_create_uint32(napi_env, uint32_t, napi_value *);

/* v8::Isolate::GetCurrent() and v8::Isolate::LowMemoryNotification() (include/v8-isolate.h), Itanium-mangled. */
#define V8_GET_CURRENT "_ZN2v87Isolate10GetCurrentEv"
#define V8_LOW_MEMORY "_ZN2v87Isolate21LowMemoryNotificationEv"

static napi_value reclaim(napi_env env, napi_callback_info info) {
  (void)info;
  uint32_t done = 0;
  void *(*get_current)(void) = (void *(*)(void))dlsym(RTLD_DEFAULT, V8_GET_CURRENT);
  void (*low_memory)(void *) = (void (*)(void *))dlsym(RTLD_DEFAULT, V8_LOW_MEMORY);
  void *isolate = get_current != NULL ? get_current() : NULL;
  if (isolate != NULL && low_memory != NULL) {
    low_memory(isolate);
    done |= 1;
  }
  int (*trim)(size_t) = (int (*)(size_t))dlsym(RTLD_DEFAULT, "malloc_trim");
  if (trim != NULL) {
    done |= 2;
    if (trim(0) != 0) done |= 4;
  }
  napi_value result;
  if (napi_create_uint32(env, done, &result) != 0) return NULL;
  return result;
}

napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "reclaim", 7, reclaim, NULL, &fn) != 0) return NULL;
  if (napi_set_named_property(env, exports, "reclaim", fn) != 0) return NULL;
  return exports;
}
