# http: the HTTP codec (heads, chunked, multipart, websocket, targets),
# shared by the frontend and imgctl, its unit tests and its fuzz targets. Pure code: a user links
# $(HTTP_CODEC_OBJS) and $(LIB_CRYPTO) (SHA-1 for the websocket accept key).
HTTP_CODEC_SRCS	:= $(addprefix http/, http_head.c http_chunked.c \
		   multipart.c multipart_hdr.c ws.c url.c http_util.c)
HTTP_CODEC_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(HTTP_CODEC_SRCS))
HTTP_CODEC_HDRS	:= http/http.h http/http_priv.h policy/limits.h

HTTP_TESTS	:= $(addprefix $(BUILD)/tests/, test_http_head \
		   test_http_chunked test_http_multipart test_http_ws \
		   test_http_url)
$(HTTP_TESTS): $(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(HTTP_CODEC_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIB_CRYPTO)
TEST_BINS += $(HTTP_TESTS)

HTTP_FUZZ	:= $(addprefix $(BUILD)/fuzz/, fuzz_http_head fuzz_chunked \
		   fuzz_multipart fuzz_ws)
$(HTTP_FUZZ): $(BUILD)/fuzz/%: tests/fuzz/%.c $(HTTP_CODEC_SRCS) \
    $(HTTP_CODEC_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -lcrypto
FUZZ_TARGETS += $(HTTP_FUZZ)

$(BUILD)/fuzz/fuzz_url: tests/fuzz/fuzz_url.c $(HTTP_CODEC_SRCS) \
    $(HTTP_CODEC_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) -lcrypto
FUZZ_TARGETS += $(BUILD)/fuzz/fuzz_url
