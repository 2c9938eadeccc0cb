// The whisper MCP server: one tool, `transcribe`, around whisper.cpp. Built natively as a stdio server
// (`whisper-server --model ggml-tiny.en.bin`) and to a WASI reactor for the browser worker.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

#include "base64.hpp"
#include "driver.hpp"
#include "whisper.h"

namespace {

using mcp::json;
using mcp::ToolError;

constexpr int SAMPLE_RATE = WHISPER_SAMPLE_RATE;  // 16 kHz: what whisper's mel front end expects
constexpr size_t MAX_SAMPLES = SAMPLE_RATE * 60 * 10;  // ten minutes per call keeps a browser tab's memory bounded

uint32_t read_u32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }
uint16_t read_u16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }

// A chunk's four-letter id for a message, with any byte that is not printable ASCII shown as '?'.
std::string chunk_name(const uint8_t* chunk) {
    std::string name(reinterpret_cast<const char*>(chunk), 4);
    for (char& c : name)
        if (c < 0x20 || c > 0x7e) c = '?';
    return name;
}

// 16 kHz samples in [-1, 1] from a RIFF/WAVE file (PCM 16-bit or IEEE float 32-bit; channels are averaged).
std::vector<float> decode_wav(const std::vector<uint8_t>& data) {
    if (data.size() < 12 || std::memcmp(data.data(), "RIFF", 4) != 0 || std::memcmp(data.data() + 8, "WAVE", 4) != 0)
        throw ToolError("audio is not a WAV file (no RIFF/WAVE header); send a WAV, or raw 16-bit PCM with "
                        "encoding 'pcm_s16le'");
    size_t offset = 12;
    uint16_t format = 0, channels = 0, bits = 0;
    uint32_t rate = 0;
    const uint8_t* samples = nullptr;
    size_t sample_bytes = 0;
    while (offset + 8 <= data.size()) {
        const uint8_t* chunk = data.data() + offset;
        size_t size = read_u32(chunk + 4);
        size_t left = data.size() - offset - 8;  // no overflow: the loop condition holds
        size_t available = std::min(size, left);
        if (std::memcmp(chunk, "fmt ", 4) == 0 && available >= 16) {
            format = read_u16(chunk + 8);
            channels = read_u16(chunk + 10);
            rate = read_u32(chunk + 12);
            bits = read_u16(chunk + 22);
            if (format == 0xFFFE && available >= 26) format = read_u16(chunk + 32);  // WAVE_FORMAT_EXTENSIBLE
        } else if (std::memcmp(chunk, "data", 4) == 0) {
            samples = chunk + 8;
            sample_bytes = available;  // a stream whose size field was never patched still decodes
            break;
        }
        // Every other chunk must fit in what is left: a size near 2^32 would otherwise wrap a 32-bit offset (size_t
        // in WASM) back to where it was, and the walk would never end.
        if (size > left)
            throw ToolError("audio is a WAV file whose '" + chunk_name(chunk) + "' chunk claims " +
                            std::to_string(size) + " bytes, but only " + std::to_string(left) + " follow it");
        offset += 8 + size + (size & 1);  // at most data.size() + 1
    }
    if (!format) throw ToolError("audio is a WAV file without a 'fmt ' chunk");
    if (!samples) throw ToolError("audio is a WAV file without a 'data' chunk");
    if (rate != SAMPLE_RATE)
        throw ToolError("audio is " + std::to_string(rate) + " Hz; transcribe needs 16000 Hz mono — resample it "
                        "first (for example: sox in.wav -r 16000 -c 1 out.wav)");
    bool pcm16 = format == 1 && bits == 16, float32 = format == 3 && bits == 32;
    if (!pcm16 && !float32)
        throw ToolError("audio is WAV format " + std::to_string(format) + " with " + std::to_string(bits) +
                        "-bit samples; transcribe reads 16-bit PCM or 32-bit float");
    if (channels == 0) throw ToolError("audio is a WAV file with 0 channels");
    size_t frame = size_t(channels) * bits / 8;
    size_t frames = sample_bytes / frame;
    std::vector<float> out(frames);
    for (size_t i = 0; i < frames; ++i) {
        float sum = 0;
        for (size_t c = 0; c < channels; ++c) {
            const uint8_t* p = samples + i * frame + c * bits / 8;
            if (pcm16) {
                sum += int16_t(read_u16(p)) / 32768.0f;
            } else {
                uint32_t word = read_u32(p);
                float value;
                std::memcpy(&value, &word, 4);
                sum += value;
            }
        }
        out[i] = sum / channels;
    }
    return out;
}

std::vector<float> decode_pcm_s16le(const std::vector<uint8_t>& data) {
    if (data.size() % 2) throw ToolError("audio has an odd number of bytes; 16-bit PCM needs 2 bytes per sample");
    std::vector<float> out(data.size() / 2);
    for (size_t i = 0; i < out.size(); ++i) out[i] = int16_t(read_u16(data.data() + 2 * i)) / 32768.0f;
    return out;
}

// whisper.cpp's loader interface over stdio, so the same code reads a model natively and from a WASI preopen.
size_t loader_read(void* file, void* output, size_t size) { return std::fread(output, 1, size, (FILE*)file); }
bool loader_eof(void* file) { return std::feof((FILE*)file) != 0; }
void loader_close(void* file) { std::fclose((FILE*)file); }

class Transcriber {
public:
    Transcriber(std::string model_path, int threads, bool fallback)
        : model_path_(std::move(model_path)), threads_(threads), fallback_(fallback) {}
    ~Transcriber() {
        if (context_) whisper_free(context_);
    }

    json transcribe(const json& arguments, mcp::CallContext& call) {
        std::vector<uint8_t> bytes = mcp::base64_decode(arguments["audio"].get<std::string>(), "audio");
        std::string encoding = arguments.value("encoding", "wav");
        std::vector<float> samples = encoding == "wav" ? decode_wav(bytes) : decode_pcm_s16le(bytes);
        if (samples.empty()) throw ToolError("audio holds no samples");
        if (samples.size() > MAX_SAMPLES)
            throw ToolError("audio is " + std::to_string(samples.size() / SAMPLE_RATE) +
                            " s long; one call transcribes at most 600 s — split it");
        std::string language = arguments.value("language", "en");
        if (language != "auto" && whisper_lang_id(language.c_str()) < 0)
            throw ToolError("language '" + language + "' is not one whisper knows; use a code such as 'en' or 'auto'");

        whisper_context* context = model();
        if (language != "en" && !whisper_is_multilingual(context) && language != "auto")
            throw ToolError("the model is English-only; it cannot transcribe language '" + language + "'");

        struct Progress {
            mcp::CallContext* call;
            int last = 0;  // the call itself announces 0 %
        } progress{&call};
        whisper_full_params params = whisper_full_default_params(WHISPER_SAMPLING_GREEDY);
        params.n_threads = threads_;
        params.language = language.c_str();
        params.detect_language = false;
        params.translate = arguments.value("translate", false);
        params.no_context = true;
        // Re-decoding a window at rising temperatures when its output looks repetitive costs up to six decodes;
        // in a browser tab that is too slow, so it is opt-in (--temperature-fallback).
        params.temperature_inc = fallback_ ? 0.2f : 0.0f;
        params.print_progress = false;
        params.print_realtime = false;
        params.print_special = false;
        params.print_timestamps = false;
        params.progress_callback = [](whisper_context*, whisper_state*, int percent, void* data) {
            auto* state = static_cast<Progress*>(data);
            percent = std::min(percent, 100);  // whisper overshoots on audio shorter than its 30 s window
            if (percent <= state->last) return;
            state->last = percent;
            state->call->progress(percent, 100.0, "decoding");
        };
        params.progress_callback_user_data = &progress;
        params.encoder_begin_callback = [](whisper_context*, whisper_state*, void* data) {
            return !static_cast<Progress*>(data)->call->cancelled();
        };
        params.encoder_begin_callback_user_data = &progress;
        params.abort_callback = [](void* data) { return static_cast<Progress*>(data)->call->cancelled(); };
        params.abort_callback_user_data = &progress;

        call.progress(0, 100.0, "decoding " + std::to_string(samples.size() / SAMPLE_RATE) + " s of audio");
        int status = whisper_full(context, params, samples.data(), int(samples.size()));
        call.check_cancelled();
        if (status != 0) throw ToolError("whisper could not transcribe the audio (status " + std::to_string(status) + ")");

        json segments = json::array();
        std::string text;
        for (int i = 0; i < whisper_full_n_segments(context); ++i) {
            std::string piece = whisper_full_get_segment_text(context, i);
            text += piece;
            segments.push_back({{"t0", whisper_full_get_segment_t0(context, i) / 100.0},
                                {"t1", whisper_full_get_segment_t1(context, i) / 100.0},
                                {"text", piece}});
        }
        size_t start = text.find_first_not_of(' ');
        text = start == std::string::npos ? "" : text.substr(start);
        return {{"text", text},
                {"language", whisper_lang_str(whisper_full_lang_id(context))},
                {"duration", double(samples.size()) / SAMPLE_RATE},
                {"segments", segments}};
    }

private:
    whisper_context* model() {
        if (context_) return context_;
        FILE* file = std::fopen(model_path_.c_str(), "rb");
        if (!file)
            throw ToolError("cannot open the whisper model file '" + model_path_ + "': " + std::strerror(errno));
        whisper_model_loader loader{file, loader_read, loader_eof, loader_close};
        whisper_context_params params = whisper_context_default_params();
        params.use_gpu = false;
        context_ = whisper_init_with_params(&loader, params);
        if (!context_)
            throw ToolError("cannot load the whisper model '" + model_path_ +
                            "': the file is truncated or not a whisper.cpp ggml model");
        return context_;
    }

    std::string model_path_;
    int threads_;
    bool fallback_;
    whisper_context* context_ = nullptr;
};

json transcribe_input_schema() {
    return {{"type", "object"},
            {"properties",
             {{"audio", {{"type", "string"}, {"minLength", 1},
                         {"description", "16 kHz mono audio as base64: a WAV file, or raw 16-bit PCM (see encoding)"}}},
              {"encoding", {{"type", "string"}, {"enum", {"wav", "pcm_s16le"}}, {"default", "wav"},
                            {"description", "How audio is encoded: a WAV file, or headerless 16-bit little-endian PCM"}}},
              {"language", {{"type", "string"}, {"default", "en"},
                            {"description", "Spoken language as an ISO 639-1 code, or 'auto' to detect it"}}},
              {"translate", {{"type", "boolean"}, {"default", false},
                             {"description", "Translate the speech into English instead of transcribing it"}}}}},
            {"required", {"audio"}},
            {"additionalProperties", false}};
}

json transcribe_output_schema() {
    json segment = {{"type", "object"},
                    {"properties", {{"t0", {{"type", "number"}}}, {"t1", {{"type", "number"}}}, {"text", {{"type", "string"}}}}},
                    {"required", {"t0", "t1", "text"}}};
    return {{"type", "object"},
            {"properties",
             {{"text", {{"type", "string"}}},
              {"language", {{"type", "string"}}},
              {"duration", {{"type", "number"}, {"description", "Length of the audio in seconds"}}},
              {"segments", {{"type", "array"}, {"items", segment},
                            {"description", "Timed segments; t0 and t1 are in seconds from the start"}}}}},
            {"required", {"text", "language", "duration", "segments"}}};
}

void quiet_log(enum ggml_log_level level, const char* text, void*) {
    if (level >= GGML_LOG_LEVEL_WARN) std::fputs(text, stderr);
}

}  // namespace

std::unique_ptr<mcp::Server> make_server(const std::vector<std::string>& args) {
    reject_unknown_options(args, {"--model", "--threads"}, {"--temperature-fallback"});
    std::string model_path = option_value(args, "--model", "");
    if (model_path.empty()) throw UsageError("--model PATH (a whisper.cpp ggml model) is required");
    int default_threads = std::max(1, std::min(4, int(std::thread::hardware_concurrency())));
#ifdef __EMSCRIPTEN__
    default_threads = 1;  // the reactor has no threads
#endif
    int threads = std::stoi(option_value(args, "--threads", std::to_string(default_threads)));
    whisper_log_set(quiet_log, nullptr);

    auto server = std::make_unique<mcp::Server>(
        "satchel-whisper", "0.1.0",
        "Speech to text with whisper.cpp, on this device. Send 16 kHz mono audio as base64.");
    bool fallback = std::find(args.begin(), args.end(), "--temperature-fallback") != args.end();
    auto transcriber = std::make_shared<Transcriber>(model_path, threads, fallback);
    server->add_tool({"transcribe",
                      "Transcribe speech",
                      "Transcribe (or translate to English) 16 kHz mono speech with whisper.cpp, returning the "
                      "text and timed segments. Runs locally; sends progress while decoding.",
                      transcribe_input_schema(),
                      transcribe_output_schema(),
                      {{"readOnlyHint", true}, {"destructiveHint", false}, {"idempotentHint", true},
                       {"openWorldHint", false}},
                      [transcriber](const json& arguments, mcp::CallContext& call) {
                          return transcriber->transcribe(arguments, call);
                      }});
    return server;
}
