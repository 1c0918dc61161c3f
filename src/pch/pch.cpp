// Translation unit that owns the project's precompiled header (see src/CMakeLists.txt).
