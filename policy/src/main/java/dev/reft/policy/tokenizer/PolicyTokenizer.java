package dev.reft.policy.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json} behind the small API the sampler and learner use: ids without
 * special tokens in, text without special tokens out, and the BOS / EOS / PAD ids.
 *
 * <p>The sampler and learner tokenize prompt and response separately and concatenate the ids, and add
 * BOS / EOS themselves, so {@link #encode} never adds special tokens and never truncates. For a
 * tokenizer made by {@link TokenizerBuilder}, {@code decode(encode(text))} returns {@code text}
 * exactly — spaces, newlines and indentation included — for any text whose characters occurred in the
 * corpus (plus printable ASCII).
 *
 * <p>Special tokens are found by name among the tokenizer's tokens: this project's {@code <|bos|>},
 * {@code <|eos|>}, {@code <|pad|>}, {@code <|unk|>}, or the usual Llama / GPT names ({@code <s>}, {@code
 * </s>}, {@code <|begin_of_text|>}, {@code <|endoftext|>}, ...), unless the caller gives the ids
 * ({@link #fromJson(String, Integer, Integer, Integer)}: an imported model's ids come from its {@code
 * tokenizer_config.json} / {@code generation_config.json}, a checkpoint's from its {@code config.json}).
 * Without a pad token, EOS is used for padding. Caveat of Hugging Face tokenizers: a special token's literal text inside the input (e.g.
 * "<|eos|>") is encoded as that special token.
 *
 * <p>Thread-safe: encoding and decoding may run concurrently.
 */
public final class PolicyTokenizer implements AutoCloseable {

  /** Beginning of sequence. */
  public static final String BOS = "<|bos|>";
  /** End of sequence: the policy emits it to stop. */
  public static final String EOS = "<|eos|>";
  /** Padding. */
  public static final String PAD = "<|pad|>";
  /** Unknown piece (a character the vocabulary lacks). */
  public static final String UNK = "<|unk|>";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, String> OPTIONS =
      Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false", "withOverflowingTokens", "false");

  private final HuggingFaceTokenizer tokenizer;
  private final String json;
  private final int vocabSize;
  private final int bos;
  private final int eos;
  private final int pad;
  private final int unk;
  private final Map<String, Integer> ids;
  private final Map<Integer, String> tokens;

  private PolicyTokenizer(HuggingFaceTokenizer tokenizer, String json, Map<String, Integer> ids, int vocabSize, int bos,
      int eos, int pad, int unk) {
    this.tokenizer = tokenizer;
    this.json = json;
    this.vocabSize = vocabSize;
    this.bos = bos;
    this.eos = eos;
    this.pad = pad;
    this.unk = unk;
    this.ids = Map.copyOf(ids);
    Map<Integer, String> byId = new HashMap<>();
    ids.forEach((token, id) -> byId.put(id, token));
    this.tokens = Map.copyOf(byId);
  }

  /**
   * Loads a {@code tokenizer.json} file.
   *
   * @param file the file
   * @return the tokenizer
   * @throws IOException when the file cannot be read
   */
  public static PolicyTokenizer load(Path file) throws IOException {
    return fromJson(Files.readString(file, StandardCharsets.UTF_8));
  }

  /**
   * Creates a tokenizer from the text of a {@code tokenizer.json}.
   *
   * @param json the file's content
   * @return the tokenizer
   * @throws IllegalArgumentException when the JSON is invalid or has no BOS / EOS token
   */
  public static PolicyTokenizer fromJson(String json) {
    return fromJson(json, null, null, null);
  }

  /**
   * Creates a tokenizer from the text of a {@code tokenizer.json} with given special ids; a null id is
   * looked up by name as {@link #fromJson(String)} does (a missing PAD becomes EOS).
   *
   * @param json the file's content
   * @param bosId the BOS id, or null
   * @param eosId the EOS id, or null
   * @param padId the PAD id, or null
   * @return the tokenizer
   * @throws IllegalArgumentException when the JSON is invalid, an id is outside the vocabulary, or BOS / EOS
   *     is neither given nor found by name
   */
  public static PolicyTokenizer fromJson(String json, Integer bosId, Integer eosId, Integer padId) {
    Map<String, Integer> tokens = new HashMap<>();
    int vocabSize = readTokens(json, tokens);
    int bos = bosId != null ? bosId : find(tokens, BOS, "<s>", "<|begin_of_text|>", "<|endoftext|>", "[CLS]");
    int eos = eosId != null ? eosId : find(tokens, EOS, "</s>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>", "[SEP]");
    int pad = padId != null ? padId : find(tokens, PAD, "<pad>", "[PAD]", "<|padding|>");
    int unk = find(tokens, UNK, "<unk>", "[UNK]");
    if (bos < 0 || eos < 0) {
      throw new IllegalArgumentException("tokenizer.json has no recognisable BOS or EOS token (expected " + BOS + " / " + EOS + ")");
    }
    for (int id : new int[] {bos, eos, pad}) {
      if (id >= vocabSize) {
        throw new IllegalArgumentException("special token id " + id + " is outside the tokenizer's vocabulary of " + vocabSize);
      }
    }
    try {
      HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), OPTIONS);
      return new PolicyTokenizer(hf, json, tokens, vocabSize, bos, eos, pad < 0 ? eos : pad, unk);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("tokenizer.json rejected by the Hugging Face tokenizers library: " + e.getMessage(), e);
    }
  }

  /** Reads every token string and id; returns the vocabulary size (largest id + 1). */
  private static int readTokens(String json, Map<String, Integer> tokens) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("tokenizer.json is not valid JSON: " + e.getMessage(), e);
    }
    int maxId = -1;
    JsonNode vocab = root.path("model").path("vocab");
    if (vocab.isObject()) {
      for (Map.Entry<String, JsonNode> e : vocab.properties()) {
        tokens.put(e.getKey(), e.getValue().intValue());
        maxId = Math.max(maxId, e.getValue().intValue());
      }
    } else if (vocab.isArray()) { // Unigram: [[piece, score], ...], id = index
      for (int i = 0; i < vocab.size(); i++) {
        tokens.put(vocab.get(i).path(0).asText(), i);
      }
      maxId = vocab.size() - 1;
    }
    for (JsonNode added : root.path("added_tokens")) {
      int id = added.path("id").intValue();
      tokens.put(added.path("content").asText(), id);
      maxId = Math.max(maxId, id);
    }
    if (maxId < 0) {
      throw new IllegalArgumentException("tokenizer.json has an empty vocabulary");
    }
    return maxId + 1;
  }

  private static int find(Map<String, Integer> tokens, String... names) {
    for (String name : names) {
      Integer id = tokens.get(name);
      if (id != null) {
        return id;
      }
    }
    return -1;
  }

  /**
   * Token ids of a text, without special tokens and without truncation.
   *
   * @param text any text
   * @return the ids
   */
  public int[] encode(String text) {
    long[] ids = tokenizer.encode(text, false, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  /**
   * A prompt's ids as the policy sees it: BOS, then the text's ids. Samplers, the learner and evaluation
   * all build prompts this way, so a trajectory's prompt ids mean the same everywhere.
   *
   * @param text the prompt text
   * @return BOS followed by {@link #encode(String)}
   */
  public int[] encodePrompt(String text) {
    int[] body = encode(text);
    int[] ids = new int[body.length + 1];
    ids[0] = bos();
    System.arraycopy(body, 0, ids, 1, body.length);
    return ids;
  }

  /**
   * The pieces a text is split into (for inspection).
   *
   * @param text any text
   * @return one string per token
   */
  public List<String> pieces(String text) {
    return List.of(tokenizer.encode(text, false, false).getTokens());
  }

  /**
   * The text of token ids, skipping special tokens (BOS, EOS, PAD, UNK).
   *
   * @param ids token ids, e.g. a sampled response
   * @return the text
   */
  public String decode(int[] ids) {
    long[] longs = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= vocabSize) {
        throw new IllegalArgumentException("token id " + ids[i] + " outside the vocabulary of " + vocabSize);
      }
      longs[i] = ids[i];
    }
    return tokenizer.decode(longs, true);
  }

  /**
   * Whether a text survives encoding and decoding unchanged (no character outside the vocabulary).
   *
   * @param text any text
   * @return {@code decode(encode(text)).equals(text)}
   */
  public boolean roundTrips(String text) {
    return decode(encode(text)).equals(text);
  }

  /** @return the beginning-of-sequence id */
  public int bos() {
    return bos;
  }

  /** @return the end-of-sequence id */
  public int eos() {
    return eos;
  }

  /** @return the padding id (EOS when the tokenizer has no pad token) */
  public int pad() {
    return pad;
  }

  /**
   * @param token a token's string as the vocabulary or the added tokens spell it (e.g. {@code <|im_end|>})
   * @return its id, or empty when the tokenizer has no such token
   */
  public OptionalInt id(String token) {
    Integer id = ids.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /**
   * @param id a token id
   * @return the token's string (special tokens as written, e.g. {@code </s>}), or null for an unused id
   */
  public String token(int id) {
    return tokens.get(id);
  }

  /** @return the unknown-piece id, or -1 when the tokenizer has none */
  public int unk() {
    return unk;
  }

  /** @return the number of token ids (largest id + 1); the model's vocabSize */
  public int vocabSize() {
    return vocabSize;
  }

  /** @return the {@code tokenizer.json} text this tokenizer was made from */
  public String json() {
    return json;
  }

  /**
   * Writes the {@code tokenizer.json}.
   *
   * @param file the destination
   * @throws IOException when writing fails
   */
  public void save(Path file) throws IOException {
    Files.writeString(file, json, StandardCharsets.UTF_8);
  }

  /** Releases the native tokenizer. */
  @Override
  public void close() {
    tokenizer.close();
  }
}
