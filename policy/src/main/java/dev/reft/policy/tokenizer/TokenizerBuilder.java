package dev.reft.policy.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds a small, lossless {@code tokenizer.json} from a corpus (the synthetic task's questions and
 * chains of thought, or any data set's text).
 *
 * <p>Design, chosen for a from-scratch model on a 2-core CPU:
 *
 * <ul>
 *   <li><b>Word-level pieces</b>, found by a regex pre-tokenizer: single digits, words with their
 *       leading space ({@code " apples"}), punctuation runs with their leading space, and whitespace
 *       runs ({@code "\n   "}; the last space before a word stays with the word). Sequences are about
 *       4× shorter than with characters, and attention cost grows with the square of the length.
 *   <li><b>Numbers as single digits</b>: every number is spelled with the same ten tokens, so the model
 *       can learn arithmetic digit by digit instead of memorising one embedding per number.
 *   <li><b>Character fallback</b>: the model is Hugging Face's WordPiece with an empty continuation
 *       prefix, over a vocabulary that contains every character of the corpus and all printable ASCII.
 *       A piece that is not in the vocabulary is spelled with longer known pieces or characters, never
 *       replaced by UNK, so a word never seen in training (a new name in a test question) still
 *       round-trips.
 *   <li><b>Lossless decoding</b>: no normaliser, and the {@code Fuse} decoder concatenates the pieces
 *       as they are. Spaces, newlines and Python indentation come back exactly, which matters because
 *       P-CoT programs are executed from the decoded text and N-CoT answers parsed from it.
 * </ul>
 *
 * <p>Ids: 0 {@code <|pad|>}, 1 {@code <|bos|>}, 2 {@code <|eos|>}, 3 {@code <|unk|>}, then characters by
 * code point, then pieces by decreasing frequency (ties by text). Deterministic: the same corpus gives
 * the same file. Verified against DJL's bundled tokenizers 0.21 (WordPiece, Split, Fuse).
 */
public final class TokenizerBuilder {

  /** The pre-tokenizer's regex (Oniguruma syntax in the JSON; the same meaning in Java). */
  public static final String PRE_TOKENIZER_PATTERN = "\\d| ?\\p{L}+| ?[^\\s\\p{L}\\d]+|\\s+(?!\\S)|\\s+";

  private static final Pattern PIECES = Pattern.compile(PRE_TOKENIZER_PATTERN, Pattern.UNICODE_CHARACTER_CLASS);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final List<String> SPECIALS = List.of(PolicyTokenizer.PAD, PolicyTokenizer.BOS, PolicyTokenizer.EOS, PolicyTokenizer.UNK);

  private int maxVocabSize = 4096;
  private int minFrequency = 2;

  private TokenizerBuilder() {}

  /** @return a builder with the defaults: at most 4,096 ids, pieces seen at least twice */
  public static TokenizerBuilder builder() {
    return new TokenizerBuilder();
  }

  /**
   * @param maxVocabSize the largest vocabulary; specials and characters always fit, pieces fill the
   *     rest by frequency
   * @return this builder
   */
  public TokenizerBuilder optMaxVocabSize(int maxVocabSize) {
    this.maxVocabSize = maxVocabSize;
    return this;
  }

  /**
   * @param minFrequency how often a multi-character piece must occur to get its own id
   * @return this builder
   */
  public TokenizerBuilder optMinFrequency(int minFrequency) {
    this.minFrequency = minFrequency;
    return this;
  }

  /**
   * Builds the tokenizer.
   *
   * @param corpus the texts the tokenizer will mostly see
   * @return the tokenizer (its {@link PolicyTokenizer#json()} is the file to store)
   */
  public PolicyTokenizer build(Iterable<String> corpus) {
    return PolicyTokenizer.fromJson(buildJson(corpus));
  }

  /**
   * Builds the {@code tokenizer.json} text.
   *
   * @param corpus the texts the tokenizer will mostly see
   * @return the file's content
   */
  public String buildJson(Iterable<String> corpus) {
    if (minFrequency < 1) {
      throw new IllegalArgumentException("minFrequency must be >= 1: " + minFrequency);
    }
    TreeSet<Integer> chars = new TreeSet<>();
    for (int c = 0x20; c < 0x7F; c++) {
      chars.add(c);
    }
    chars.add((int) '\n');
    chars.add((int) '\t');
    chars.add((int) '\r');
    Map<String, Integer> counts = new HashMap<>();
    for (String text : corpus) {
      text.codePoints().forEach(chars::add);
      Matcher m = PIECES.matcher(text);
      while (m.find()) {
        String piece = m.group();
        if (piece.codePointCount(0, piece.length()) > 1) {
          counts.merge(piece, 1, Integer::sum);
        }
      }
    }
    int base = SPECIALS.size() + chars.size();
    if (maxVocabSize < base) {
      throw new IllegalArgumentException("maxVocabSize " + maxVocabSize + " is below the " + base + " specials and characters of this corpus");
    }
    List<Map.Entry<String, Integer>> frequent = new ArrayList<>();
    for (Map.Entry<String, Integer> e : counts.entrySet()) {
      if (e.getValue() >= minFrequency) {
        frequent.add(e);
      }
    }
    frequent.sort((a, b) -> !a.getValue().equals(b.getValue()) ? Integer.compare(b.getValue(), a.getValue()) : a.getKey().compareTo(b.getKey()));

    ObjectNode vocab = JSON.createObjectNode();
    int id = 0;
    for (String special : SPECIALS) {
      vocab.put(special, id++);
    }
    for (int c : chars) {
      vocab.put(new String(Character.toChars(c)), id++);
    }
    for (int i = 0; i < frequent.size() && id < maxVocabSize; i++) {
      vocab.put(frequent.get(i).getKey(), id++);
    }
    return toJson(vocab);
  }

  private static String toJson(ObjectNode vocab) {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int i = 0; i < SPECIALS.size(); i++) {
      ObjectNode t = added.addObject();
      t.put("id", i);
      t.put("content", SPECIALS.get(i));
      t.put("single_word", false);
      t.put("lstrip", false);
      t.put("rstrip", false);
      t.put("normalized", false);
      t.put("special", true);
    }
    root.putNull("normalizer");
    ObjectNode pre = root.putObject("pre_tokenizer");
    pre.put("type", "Split");
    pre.putObject("pattern").put("Regex", PRE_TOKENIZER_PATTERN);
    pre.put("behavior", "Isolated");
    pre.put("invert", false);
    root.putNull("post_processor");
    root.putObject("decoder").put("type", "Fuse");
    ObjectNode model = root.putObject("model");
    model.put("type", "WordPiece");
    model.put("unk_token", PolicyTokenizer.UNK);
    model.put("continuing_subword_prefix", "");
    model.put("max_input_chars_per_word", 1_000_000);
    model.set("vocab", vocab);
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
