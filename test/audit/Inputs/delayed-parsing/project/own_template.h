#pragma once
// The same mistake in the project's own header: reported, not worked around.
template <typename T> struct Holder {
  Holder &operator=(const Holder &Rhs) {
    Size = Rhs.Size;
    return *this;
  }
  const unsigned Size = 0;
};
