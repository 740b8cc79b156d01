//===- concguard/concguard.hpp - the whole concguard runtime ----*- C++ -*-===//
//
// Part of concguard. Convenience header: includes every runtime container.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// Includes concguard::sharded_map (concurrent map with per-shard locks) and
/// concguard::snapshot_map (copy-on-write map for read-mostly data) and
/// concguard::persistent_map (the structure-sharing hash trie behind it).
///
//===----------------------------------------------------------------------===//

#ifndef CONCGUARD_CONCGUARD_HPP
#define CONCGUARD_CONCGUARD_HPP

#include "concguard/persistent_map.hpp"
#include "concguard/sharded_map.hpp"
#include "concguard/snapshot_map.hpp"
#include "concguard/synchronized.hpp"

#endif // CONCGUARD_CONCGUARD_HPP
