#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "net/fd.hpp"

namespace sockit::testing {

/// A pipe, both ends closed with the test: the relays' standard input and output.
struct Pipe {
  net::Fd read_end, write_end;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_end = net::Fd(fds[0]);
    write_end = net::Fd(fds[1]);
  }
};

}  // namespace sockit::testing
