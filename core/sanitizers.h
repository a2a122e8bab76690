// Which sanitizer this translation unit is built with: gcc defines
// __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__, clang answers __has_feature.
// SEGSIM_HAS_ASAN / SEGSIM_HAS_TSAN are defined (to 1) when it is on.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define SEGSIM_HAS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEGSIM_HAS_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define SEGSIM_HAS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SEGSIM_HAS_TSAN 1
#endif
#endif
