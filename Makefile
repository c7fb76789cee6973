# Thin wrapper over CMake and ctest for the README's two commands (DESIGN.md: CLI shape).
#   make demo   install dependencies, build, sample the bundled digits data, diagnose it
#   make test   install dependencies, build (Release and ASan+UBSan), run every test
JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: deps build demo test test-release test-asan clean

deps:
	sh scripts/install-deps.sh

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j$(JOBS)

demo: deps build
	./$(BUILD)/bnnmc sample --data digits --arch mlp:100 --act tanh --chains 4 \
	    --warmup 100 --samples 300 --out runs/digits --overwrite
	./$(BUILD)/bnnmc diagnose runs/digits

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBNNMC_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS) -LE slow

test: deps
	$(MAKE) test-release
	$(MAKE) test-asan

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
