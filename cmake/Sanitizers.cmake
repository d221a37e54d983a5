# ASan + UBSan for the whole build, failing on the first report.
if(WD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()
# ThreadSanitizer cannot share a build with ASan, so it is its own option.
if(WD_TSAN)
  if(WD_SANITIZE)
    message(FATAL_ERROR "WD_TSAN and WD_SANITIZE cannot be combined")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=thread)
endif()
