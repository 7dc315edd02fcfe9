import { ERROR_CODES } from "@countersign/protocol";
import { Type } from "typebox";

/** The JSON Schema of every error response (the `ErrorBody` of `@countersign/protocol`). */
export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object({
      code: Type.Enum(Object.keys(ERROR_CODES)),
      message: Type.String(),
      request_id: Type.Optional(Type.String()),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  { $id: "ErrorBody", title: "ErrorBody", description: "Every error: a code from the shared registry." },
);
