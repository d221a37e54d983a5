# Strict warnings for project code, after curl's PickyWarnings.
function(wd_strict target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wstrict-prototypes -Wmissing-prototypes -Wswitch-enum -Wformat=2
    -Wundef -Wcast-qual -Wnull-dereference -Wvla
    -fvisibility=hidden)
  if(WD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
