package dev.agentescrow.chain;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.web3j.abi.CustomErrorEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.CustomError;
import org.web3j.abi.datatypes.Type;

/**
 * Turns ABI-encoded revert data into the custom error it encodes, using the {@link CustomError}
 * constants of the generated wrappers. Unknown selectors decode to nothing.
 */
public final class RevertDecoder {
    /** A decoded custom error: its name and its arguments in declaration order. */
    public record DecodedError(String name, List<Object> arguments) {
        @Override
        public String toString() {
            return name + arguments.stream().map(String::valueOf).collect(Collectors.joining(", ", "(", ")"));
        }
    }

    private final Map<String, CustomError> bySelector = new HashMap<>();

    private RevertDecoder() {
    }

    /** A decoder that knows every custom error declared by the given wrapper classes. */
    public static RevertDecoder forWrappers(List<Class<?>> wrapperClasses) {
        RevertDecoder decoder = new RevertDecoder();
        for (Class<?> wrapper : wrapperClasses) {
            for (Field field : wrapper.getFields()) {
                if (Modifier.isStatic(field.getModifiers()) && field.getType() == CustomError.class) {
                    try {
                        CustomError error = (CustomError) field.get(null);
                        decoder.bySelector.put(CustomErrorEncoder.encode(error).substring(0, 10), error);
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException("cannot read " + field, e);
                    }
                }
            }
        }
        return decoder;
    }

    /** The custom error encoded in {@code revertData}, if its selector is known. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    public Optional<DecodedError> decode(String revertData) {
        if (revertData == null || revertData.length() < 10) {
            return Optional.empty();
        }
        String data = revertData.toLowerCase(Locale.ROOT);
        CustomError error = bySelector.get(data.substring(0, 10));
        if (error == null) {
            return Optional.empty();
        }
        List<TypeReference<Type>> parameters = (List) error.getParameters();
        List<Type> values = FunctionReturnDecoder.decode("0x" + data.substring(10), parameters);
        return Optional.of(new DecodedError(error.getName(), values.stream().<Object>map(Type::getValue).toList()));
    }
}
