import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import java.io.File;
import java.util.Locale;
import java.util.Optional;

/**
 * The reference side of reft-cli's HfParityTest, run by the test under a JDK >= 21 as a source-file program:
 *
 * <pre>java --add-modules jdk.incubator.vector -cp JLAMA_CLASSPATH JlamaReference.java HF_DIR GREEDY_STEPS ID...</pre>
 *
 * Feeds the token ids one position at a time through Jlama (https://github.com/tjake/Jlama), an independent Java
 * implementation of Llama / Qwen2 inference, with F32 weights and F32 working memory, and prints
 *
 * <pre>
 * LOGPROBS pos lp_0 lp_1 ... lp_{V-1}    for every input position: log of Jlama's next-token probabilities
 * GREEDY t_1 ... t_n                     the greedy continuation of the whole input
 * </pre>
 *
 * Token ids, not text: Jlama's byte-level encoder drops spaces. Jlama's getLogits returns softmax probabilities,
 * hence the log.
 */
public final class JlamaReference {

  public static void main(String[] args) throws Exception {
    File dir = new File(args[0]);
    int steps = Integer.parseInt(args[1]);
    int[] ids = new int[args.length - 2];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = Integer.parseInt(args[i + 2]);
    }
    AbstractModel model = ModelSupport.loadModel(dir, DType.F32, DType.F32);
    try (KvBufferCache cache = new KvBufferCache(model); KvBufferCache.KvBuffer kv = cache.getEphemeralKvBuffer()) {
      float[] probs = null;
      for (int pos = 0; pos < ids.length; pos++) {
        probs = next(model, ids[pos], pos, kv);
        StringBuilder line = new StringBuilder("LOGPROBS ").append(pos);
        for (float p : probs) {
          line.append(' ').append(String.format(Locale.ROOT, "%.9g", Math.log(p)));
        }
        System.out.println(line);
      }
      StringBuilder greedy = new StringBuilder("GREEDY");
      for (int step = 0, pos = ids.length; step < steps; step++, pos++) {
        int token = argmax(probs);
        greedy.append(' ').append(token);
        if (step + 1 < steps) {
          probs = next(model, token, pos, kv);
        }
      }
      System.out.println(greedy);
    } finally {
      model.close();
    }
  }

  private static float[] next(AbstractModel model, int token, int pos, KvBufferCache.KvBuffer kv) {
    try (AbstractTensor hidden = model.forward(token, pos, kv, Optional.empty())) {
      return model.getLogits(hidden);
    }
  }

  private static int argmax(float[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }
}
