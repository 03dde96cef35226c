# unpacker: archive reading, validation, metadata.yaml (lib.mk), and the
# sandboxed imgd-unpacker program.
include unpacker/lib.mk

$(BUILD)/bin/imgd-unpacker: $(BUILD)/unpacker/main.o \
    $(BUILD)/unpacker/render.o $(UNPACKER_LIB_OBJS) \
    $(BUILD)/policy/child.o $(SANDBOX_OBJS) $(IPC_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_ARCHIVE) $(LIB_YAML) \
	    $(LIB_SQUASHFS) $(LIB_SECCOMP) $(LIB_CAP)
BINS += $(BUILD)/bin/imgd-unpacker
