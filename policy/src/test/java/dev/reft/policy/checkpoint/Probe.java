package dev.reft.policy.checkpoint;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reft.policy.PolicyModel;
import dev.reft.policy.TokenBatch;
import dev.reft.policy.TokenLogProbs;
import dev.reft.policy.sampling.Sample;
import dev.reft.policy.sampling.Sampler;
import dev.reft.policy.tokenizer.PolicyTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * What "the same model" means across processes: greedy responses with their log-probs, and the training
 * forward's log-probs of prompt + response, for fixed prompts. Serialised as JSON (floats as exact bit
 * patterns).
 */
final class Probe {

  static final List<String> PROMPTS = List.of("Question:\n12 + 7 = ?\nAnswer reasoning:\n", "def solution():\n    x = 3", "apples and pears");

  private Probe() {}

  static String run(PolicyModel model, PolicyTokenizer tokenizer) {
    List<int[]> prompts = new ArrayList<>();
    for (String p : PROMPTS) {
      int[] ids = tokenizer.encode(p);
      int[] withBos = new int[ids.length + 1];
      withBos[0] = tokenizer.bos();
      System.arraycopy(ids, 0, withBos, 1, ids.length);
      prompts.add(withBos);
    }
    List<Sample> greedy = new Sampler(model, tokenizer.eos(), tokenizer.pad()).greedy(prompts, 12);
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    ArrayNode rows = root.putArray("rows");
    List<int[]> full = new ArrayList<>();
    for (int r = 0; r < prompts.size(); r++) {
      ObjectNode row = rows.addObject();
      Sample s = greedy.get(r);
      ArrayNode tokens = row.putArray("tokens");
      ArrayNode logProbs = row.putArray("logProbBits");
      for (int i = 0; i < s.length(); i++) {
        tokens.add(s.tokens()[i]);
        logProbs.add(Float.floatToRawIntBits(s.logProbs()[i]));
      }
      row.put("finish", s.finishReason().name());
      int[] seq = new int[prompts.get(r).length + s.length()];
      System.arraycopy(prompts.get(r), 0, seq, 0, prompts.get(r).length);
      System.arraycopy(s.tokens(), 0, seq, prompts.get(r).length, s.length());
      full.add(seq);
    }
    try (NDManager batch = model.newBatchManager()) {
      TokenBatch b = TokenBatch.rightPadded(batch, full, tokenizer.pad());
      float[] forward = TokenLogProbs.nextTokenLogProbs(model.forward(b.tokens(), b.attentionMask()).logits(), b.tokens()).toFloatArray();
      ArrayNode bits = root.putArray("forwardLogProbBits");
      for (float f : forward) {
        bits.add(Float.floatToRawIntBits(f));
      }
    }
    return root.toString();
  }
}
