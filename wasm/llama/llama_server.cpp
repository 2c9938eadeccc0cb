// The llama MCP server: `generate` (raw completion), `summarize` (through the model's own chat template) and
// `score` (the model's logits along a given continuation, teacher-forced) around llama.cpp. Built natively as a stdio server (`llama-server --model model.gguf`) and to a WASI reactor for
// the browser worker. Progress notifications carry each chunk of generated text while it is produced.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <thread>

#include "driver.hpp"
#include "llama.h"

namespace {

using mcp::json;
using mcp::ToolError;

constexpr int PROGRESS_EVERY = 8;  // tokens per progress notification
// Where the text to summarise goes while the chat template is applied: the template's own parts are then tokenized
// with special tokens recognised, and the text without, so text holding "<|im_start|>" or "</s>" stays text and
// cannot open a turn of its own.
const std::string TEXT_SLOT = "\x1fsatchel-text\x1f";

struct Generation {
    std::string text;
    std::vector<llama_token> tokens;
    std::string finish_reason;
    int prompt_tokens = 0;
};

class Generator {
public:
    Generator(std::string model_path, int context_size, int threads)
        : model_path_(std::move(model_path)), context_size_(context_size), threads_(threads) {}
    ~Generator() {
        if (context_) llama_free(context_);
        if (model_) llama_model_free(model_);
    }

    json generate(const json& arguments, mcp::CallContext& call) {
        load();
        std::string prompt = arguments["prompt"];
        std::vector<std::string> stop = arguments.value("stop", std::vector<std::string>{});
        std::vector<llama_token> tokens = tokenize(prompt, true, false);
        Generation result = run(tokens, arguments.value("max_tokens", 128), arguments.value("temperature", 0.0),
                                arguments.value("seed", 0), stop, call);
        return {{"text", result.text},
                {"tokens", result.tokens},
                {"finish_reason", result.finish_reason},
                {"prompt_tokens", result.prompt_tokens}};
    }

    json summarize(const json& arguments, mcp::CallContext& call) {
        load();
        std::string length = arguments.value("length", "short");
        std::string ask = length == "short"    ? "in one or two sentences"
                          : length == "medium" ? "in one paragraph"
                                               : "in a few paragraphs, keeping every key point";
        std::string request = "Summarize the following text " + ask + ".\n\n" + TEXT_SLOT;
        llama_chat_message chat[] = {
            {"system", "You write faithful, concise summaries. Reply with the summary only."},
            {"user", request.c_str()},
        };
        const char* tmpl = llama_model_chat_template(model_, nullptr);
        int size = llama_chat_apply_template(tmpl, chat, 2, true, nullptr, 0);
        if (size < 0)
            throw ToolError("the model's chat template is not one llama.cpp can apply without a Jinja engine");
        std::string formatted(size_t(size), '\0');
        llama_chat_apply_template(tmpl, chat, 2, true, formatted.data(), size);
        size_t slot = formatted.find(TEXT_SLOT);
        if (slot == std::string::npos)
            throw ToolError("the model's chat template dropped the user's message; summarize cannot use it");
        const llama_vocab* vocab = llama_model_get_vocab(model_);
        std::vector<llama_token> prompt;
        if (llama_vocab_get_add_bos(vocab)) prompt.push_back(llama_vocab_bos(vocab));
        auto append = [&](const std::string& part, bool parse_special) {
            std::vector<llama_token> tokens = tokenize(part, false, parse_special);
            prompt.insert(prompt.end(), tokens.begin(), tokens.end());
        };
        append(formatted.substr(0, slot), true);  // the template's own text, special tokens and all
        append(arguments["text"].get_ref<const std::string&>(), false);  // the user's text: never a special token
        append(formatted.substr(slot + TEXT_SLOT.size()), true);
        if (llama_vocab_get_add_eos(vocab)) prompt.push_back(llama_vocab_eos(vocab));
        int max_tokens = length == "short" ? 96 : length == "medium" ? 256 : 512;
        Generation result = run(prompt, max_tokens, 0.0, 0, {}, call);
        size_t start = result.text.find_first_not_of(" \n");
        std::string summary = start == std::string::npos ? "" : result.text.substr(start);
        return {{"text", summary}, {"finish_reason", result.finish_reason}, {"prompt_tokens", result.prompt_tokens}};
    }

    // Teacher forcing: the prompt, then each given token in turn; before each one, what the model predicts there.
    json score(const json& arguments, mcp::CallContext& call) {
        load();
        std::vector<llama_token> continuation = arguments["tokens"].get<std::vector<llama_token>>();
        int top_k = arguments.value("top_k", 5);
        const llama_vocab* vocab = llama_model_get_vocab(model_);
        int n_vocab = llama_vocab_n_tokens(vocab);
        for (llama_token token : continuation)
            if (token < 0 || token >= n_vocab)
                throw ToolError("token " + std::to_string(token) + " is not in the model's vocabulary of " +
                                std::to_string(n_vocab) + " tokens");
        std::vector<llama_token> prompt = tokenize(arguments["prompt"], true, false);
        evaluate_prompt(prompt, call);
        int n_ctx = int(llama_n_ctx(context_));
        if (int(prompt.size() + continuation.size()) > n_ctx)
            throw ToolError("the prompt and the tokens are " + std::to_string(prompt.size() + continuation.size()) +
                            " tokens; the context holds " + std::to_string(n_ctx));
        top_k = std::min(top_k, n_vocab);
        json steps = json::array();
        std::vector<int> order(size_t(n_vocab), 0);
        for (size_t i = 0; i < continuation.size(); ++i) {
            call.check_cancelled();
            const float* logits = llama_get_logits_ith(context_, -1);
            llama_token token = continuation[i];
            int rank = int(std::count_if(logits, logits + n_vocab, [&](float l) { return l > logits[token]; }));
            for (int v = 0; v < n_vocab; ++v) order[size_t(v)] = v;
            std::partial_sort(order.begin(), order.begin() + top_k, order.end(), [&](int a, int b) {
                return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
            });
            json top = json::array();
            for (int k = 0; k < top_k; ++k) top.push_back({{"token", order[size_t(k)]}, {"logit", logits[order[size_t(k)]]}});
            steps.push_back({{"token", token}, {"logit", logits[token]}, {"rank", rank}, {"top", top}});
            if ((i + 1) % PROGRESS_EVERY == 0) call.progress(double(i + 1), double(continuation.size()));
            if (i + 1 < continuation.size() && llama_decode(context_, llama_batch_get_one(&token, 1)) != 0)
                throw ToolError("llama.cpp failed to evaluate token " + std::to_string(i));
        }
        return {{"steps", steps}, {"prompt_tokens", int(prompt.size())}};
    }

private:
    void load() {
        if (model_) return;
        std::FILE* probe = std::fopen(model_path_.c_str(), "rb");
        if (!probe) throw ToolError("cannot open the model file '" + model_path_ + "': " + std::strerror(errno));
        std::fclose(probe);
        llama_model_params params = llama_model_default_params();
        params.n_gpu_layers = 0;
#ifdef __EMSCRIPTEN__
        params.load_mode = LLAMA_LOAD_MODE_NONE;  // WASI has no mmap: read the file
#endif
        llama_model* model = llama_model_load_from_file(model_path_.c_str(), params);
        if (!model)
            throw ToolError("cannot load the model '" + model_path_ +
                            "': the file is truncated or not a GGUF model llama.cpp supports");
        llama_context_params context_params = llama_context_default_params();
        int trained = llama_model_n_ctx_train(model);
        context_params.n_ctx = uint32_t(std::min(context_size_, trained > 0 ? trained : context_size_));
        context_params.n_batch = std::min<uint32_t>(context_params.n_ctx, 512);
        context_params.n_ubatch = context_params.n_batch;
        context_params.n_threads = threads_;
        context_params.n_threads_batch = threads_;
        context_params.no_perf = true;
        llama_context* context = llama_init_from_model(model, context_params);
        if (!context) {
            llama_model_free(model);
            throw ToolError("cannot create a llama.cpp context of " + std::to_string(context_params.n_ctx) +
                            " tokens for '" + model_path_ + "'");
        }
        model_ = model;
        context_ = context;
    }

    // `add_special` adds the model's BOS (where it has one) in front; `parse_special` reads special-token
    // strings such as "<|im_start|>" as those tokens, which only text of our own (a chat template) may do.
    std::vector<llama_token> tokenize(const std::string& text, bool add_special, bool parse_special) {
        const llama_vocab* vocab = llama_model_get_vocab(model_);
        int count = -llama_tokenize(vocab, text.data(), int32_t(text.size()), nullptr, 0, add_special, parse_special);
        std::vector<llama_token> tokens(size_t(std::max(count, 0)));
        if (llama_tokenize(vocab, text.data(), int32_t(text.size()), tokens.data(), int32_t(tokens.size()),
                           add_special, parse_special) < 0)
            throw ToolError("the prompt could not be tokenized");
        return tokens;
    }

    std::string piece(llama_token token) {
        char buffer[256];
        int n = llama_token_to_piece(llama_model_get_vocab(model_), token, buffer, sizeof(buffer), 0, false);
        return n > 0 ? std::string(buffer, size_t(n)) : std::string();
    }

    // Clears the context and evaluates the prompt; the logits of its last token are then ready.
    void evaluate_prompt(std::vector<llama_token>& tokens, mcp::CallContext& call) {
        int n_ctx = int(llama_n_ctx(context_));
        if (tokens.empty()) throw ToolError("the prompt is empty");
        if (int(tokens.size()) >= n_ctx)
            throw ToolError("the prompt is " + std::to_string(tokens.size()) + " tokens; the context holds " +
                            std::to_string(n_ctx) + " — shorten the prompt");
        llama_memory_clear(llama_get_memory(context_), true);
        int n_batch = int(llama_n_batch(context_));
        for (size_t start = 0; start < tokens.size(); start += size_t(n_batch)) {
            call.check_cancelled();
            int n = int(std::min(tokens.size() - start, size_t(n_batch)));
            if (llama_decode(context_, llama_batch_get_one(tokens.data() + start, n)) != 0)
                throw ToolError("llama.cpp failed to evaluate the prompt");
        }
    }

    Generation run(std::vector<llama_token>& tokens, int max_tokens, double temperature, int seed,
                   const std::vector<std::string>& stop, mcp::CallContext& call) {
        const llama_vocab* vocab = llama_model_get_vocab(model_);
        int n_ctx = int(llama_n_ctx(context_));
        evaluate_prompt(tokens, call);
        Generation out;
        out.prompt_tokens = int(tokens.size());
        int budget = std::min(max_tokens, n_ctx - int(tokens.size()));

        llama_sampler* sampler = llama_sampler_chain_init(llama_sampler_chain_default_params());
        if (temperature <= 0) {
            llama_sampler_chain_add(sampler, llama_sampler_init_greedy());
        } else {
            llama_sampler_chain_add(sampler, llama_sampler_init_top_k(40));
            llama_sampler_chain_add(sampler, llama_sampler_init_top_p(0.95f, 1));
            llama_sampler_chain_add(sampler, llama_sampler_init_temp(float(temperature)));
            llama_sampler_chain_add(sampler, llama_sampler_init_dist(uint32_t(seed)));
        }
        struct SamplerGuard {
            llama_sampler* s;
            ~SamplerGuard() { llama_sampler_free(s); }
        } guard{sampler};

        out.finish_reason = "length";
        size_t reported = 0;
        for (int i = 0; i < budget; ++i) {
            call.check_cancelled();
            llama_token token = llama_sampler_sample(sampler, context_, -1);
            if (llama_vocab_is_eog(vocab, token)) {
                out.finish_reason = "stop";
                break;
            }
            out.tokens.push_back(token);
            out.text += piece(token);
            bool stopped = false;
            for (const auto& s : stop) {
                size_t at = s.empty() ? std::string::npos : out.text.find(s);
                if (at != std::string::npos) {
                    out.text.resize(at);
                    stopped = true;
                }
            }
            if (stopped) {
                out.finish_reason = "stop";
                break;
            }
            if (out.tokens.size() % PROGRESS_EVERY == 0) {
                call.progress(double(out.tokens.size()), double(budget), out.text.substr(reported));
                reported = out.text.size();
            }
            if (i + 1 < budget && llama_decode(context_, llama_batch_get_one(&token, 1)) != 0)
                throw ToolError("llama.cpp failed to evaluate token " + std::to_string(i));
        }
        return out;
    }

    std::string model_path_;
    int context_size_;
    int threads_;
    llama_model* model_ = nullptr;
    llama_context* context_ = nullptr;
};

void quiet_log(enum ggml_log_level level, const char* text, void*) {
    if (level >= GGML_LOG_LEVEL_WARN) std::fputs(text, stderr);
}

const json READ_ONLY = {{"readOnlyHint", true}, {"destructiveHint", false}, {"openWorldHint", false}};

json generate_input_schema() {
    return {{"type", "object"},
            {"properties",
             {{"prompt", {{"type", "string"}, {"minLength", 1}, {"description", "Text to continue"}}},
              {"max_tokens", {{"type", "integer"}, {"minimum", 1}, {"maximum", 4096}, {"default", 128}}},
              {"temperature", {{"type", "number"}, {"minimum", 0}, {"maximum", 2}, {"default", 0},
                               {"description", "0 picks the most likely token every time (greedy)"}}},
              {"seed", {{"type", "integer"}, {"minimum", 0}, {"maximum", 4294967295.0}, {"default", 0}}},
              {"stop", {{"type", "array"}, {"items", {{"type", "string"}}}, {"maxItems", 8},
                        {"description", "Generation ends before the first of these strings"}}}}},
            {"required", {"prompt"}},
            {"additionalProperties", false}};
}

json generate_output_schema() {
    return {{"type", "object"},
            {"properties",
             {{"text", {{"type", "string"}}},
              {"tokens", {{"type", "array"}, {"items", {{"type", "integer"}}}}},
              {"finish_reason", {{"type", "string"}, {"enum", {"stop", "length"}}}},
              {"prompt_tokens", {{"type", "integer"}}}}},
            {"required", {"text", "tokens", "finish_reason", "prompt_tokens"}}};
}

json summarize_input_schema() {
    return {{"type", "object"},
            {"properties",
             {{"text", {{"type", "string"}, {"minLength", 1}, {"description", "Text to summarise"}}},
              {"length", {{"type", "string"}, {"enum", {"short", "medium", "long"}}, {"default", "short"}}}}},
            {"required", {"text"}},
            {"additionalProperties", false}};
}

json summarize_output_schema() {
    return {{"type", "object"},
            {"properties",
             {{"text", {{"type", "string"}, {"description", "The summary"}}},
              {"finish_reason", {{"type", "string"}, {"enum", {"stop", "length"}}}},
              {"prompt_tokens", {{"type", "integer"}}}}},
            {"required", {"text", "finish_reason", "prompt_tokens"}}};
}

json score_input_schema() {
    return {{"type", "object"},
            {"properties",
             {{"prompt", {{"type", "string"}, {"minLength", 1}, {"description", "Text before the tokens"}}},
              {"tokens", {{"type", "array"},
                          {"items", {{"type", "integer"}, {"minimum", 0}, {"maximum", 2147483647}}},
                          {"minItems", 1},
                          {"maxItems", 4096},
                          {"description", "Token ids that follow the prompt, as `generate` returns them"}}},
              {"top_k", {{"type", "integer"}, {"minimum", 1}, {"maximum", 20}, {"default", 5},
                         {"description", "How many of the most likely tokens to list at each step"}}}}},
            {"required", {"prompt", "tokens"}},
            {"additionalProperties", false}};
}

json score_output_schema() {
    json candidate = {{"type", "object"},
                      {"properties", {{"token", {{"type", "integer"}}}, {"logit", {{"type", "number"}}}}},
                      {"required", {"token", "logit"}}};
    json step = {{"type", "object"},
                 {"properties",
                  {{"token", {{"type", "integer"}}},
                   {"logit", {{"type", "number"}}},
                   {"rank", {{"type", "integer"}, {"description", "How many tokens the model found more likely"}}},
                   {"top", {{"type", "array"}, {"items", candidate}}}}},
                 {"required", {"token", "logit", "rank", "top"}}};
    return {{"type", "object"},
            {"properties", {{"steps", {{"type", "array"}, {"items", step}}}, {"prompt_tokens", {{"type", "integer"}}}}},
            {"required", {"steps", "prompt_tokens"}}};
}

}  // namespace

std::unique_ptr<mcp::Server> make_server(const std::vector<std::string>& args) {
    reject_unknown_options(args, {"--model", "--ctx", "--threads"});
    std::string model_path = option_value(args, "--model", "");
    if (model_path.empty()) throw UsageError("--model PATH (a GGUF model) is required");
    int default_threads = std::max(1, std::min(4, int(std::thread::hardware_concurrency())));
#ifdef __EMSCRIPTEN__
    default_threads = 1;  // the reactor has no threads
#endif
    int context_size = std::stoi(option_value(args, "--ctx", "2048"));
    int threads = std::stoi(option_value(args, "--threads", std::to_string(default_threads)));
    llama_log_set(quiet_log, nullptr);
    llama_backend_init();

    auto server = std::make_unique<mcp::Server>(
        "satchel-llama", "0.1.0", "Text generation and summaries with llama.cpp, on this device.");
    auto generator = std::make_shared<Generator>(model_path, context_size, threads);
    server->add_tool({"generate", "Generate text",
                      "Continue a prompt with the local language model. temperature 0 is greedy and repeatable; "
                      "otherwise seed makes sampling repeatable. Progress notifications carry the text so far.",
                      generate_input_schema(), generate_output_schema(), READ_ONLY,
                      [generator](const json& arguments, mcp::CallContext& call) {
                          return generator->generate(arguments, call);
                      }});
    server->add_tool({"summarize", "Summarize text",
                      "Summarise text with the local language model, through the model's own chat template.",
                      summarize_input_schema(), summarize_output_schema(), READ_ONLY,
                      [generator](const json& arguments, mcp::CallContext& call) {
                          return generator->summarize(arguments, call);
                      }});
    server->add_tool({"score", "Score a continuation",
                      "Follow given tokens after a prompt (teacher forcing) and report, before each one, its logit, "
                      "its rank and the model's top_k candidates: how likely the model finds a text, and where two "
                      "builds of the same model differ.",
                      score_input_schema(), score_output_schema(), READ_ONLY,
                      [generator](const json& arguments, mcp::CallContext& call) {
                          return generator->score(arguments, call);
                      }});
    return server;
}
