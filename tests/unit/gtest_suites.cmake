# Run after a unit test binary is linked (cmake -P): writes OUTPUT, the ctest file that gives the
# binary one test per suite, and per parameter of a parameterized suite ("PREFIX.Suite" runs
# --gtest_filter=Suite.*, "PREFIX.Models/EventModel/epoll" runs Models/EventModel.*/epoll).
# gtest_discover_tests makes a process of every test; under ASan a process takes a third of a
# second to start and end, which made half of the unit tests' time.
#
#   cmake -D EXECUTABLE=... -D PREFIX=... -D WORKING_DIRECTORY=... -D TIMEOUT=... -D OUTPUT=... -P gtest_suites.cmake

cmake_minimum_required(VERSION 3.25)

execute_process(COMMAND "${EXECUTABLE}" --gtest_list_tests
                WORKING_DIRECTORY "${WORKING_DIRECTORY}"
                OUTPUT_VARIABLE listing RESULT_VARIABLE status TIMEOUT 60)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${EXECUTABLE} --gtest_list_tests failed (${status}):\n${listing}")
endif()

# The listing: "Suite." lines, each followed by its tests indented by two spaces; either may end
# with a "  # GetParam() = ..." comment.
string(REPLACE ";" "\\;" listing "${listing}")
string(REPLACE "\n" ";" lines "${listing}")
set(groups "")
foreach(line IN LISTS lines)
  string(REGEX REPLACE " +#.*$" "" line "${line}")
  if(line MATCHES "^([^ ].*)\\.$")
    set(suite "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^  [^/]+(/.+)?$" AND DEFINED suite)
    set(filter "${suite}.*${CMAKE_MATCH_1}")
    if(NOT filter IN_LIST groups)
      list(APPEND groups "${filter}")
    endif()
  endif()
endforeach()

set(script "")
foreach(filter IN LISTS groups)
  string(REPLACE ".*" "" name "${PREFIX}${filter}")
  string(APPEND script
         "add_test([==[${name}]==] [==[${EXECUTABLE}]==] [==[--gtest_filter=${filter}]==])\n"
         "set_tests_properties([==[${name}]==] PROPERTIES WORKING_DIRECTORY [==[${WORKING_DIRECTORY}]==] "
         "TIMEOUT ${TIMEOUT})\n")
endforeach()
file(WRITE "${OUTPUT}" "${script}")
