// The parts of apache-arrow (and its flatbuffers) that ArrowSource uses,
// loaded on first use: they take ~45 ms to load, which a program that never
// opens an Arrow file should not pay when it loads this package.
import type * as FbFieldModule from 'apache-arrow/fb/field';
import type * as FbFooterModule from 'apache-arrow/fb/footer';
import type * as FbMessageModule from 'apache-arrow/fb/message';
import type * as FbMessageHeaderModule from 'apache-arrow/fb/message-header';
import type * as FbRecordBatchModule from 'apache-arrow/fb/record-batch';
import type * as FbSchemaModule from 'apache-arrow/fb/schema';
import type * as FbCompressionTypeModule from 'apache-arrow/fb/compression-type';
import type * as EnumModule from 'apache-arrow/enum';
import type * as FileModule from 'apache-arrow/ipc/metadata/file';
import type * as MessageModule from 'apache-arrow/ipc/metadata/message';
import type * as FlatbuffersModule from 'flatbuffers';

export interface ArrowModules {
  readonly Footer: typeof FileModule.Footer;
  readonly Message: typeof MessageModule.Message;
  readonly Type: typeof EnumModule.Type;
  readonly Precision: typeof EnumModule.Precision;
  readonly MessageHeader: typeof EnumModule.MessageHeader;
  readonly CompressionType: typeof FbCompressionTypeModule.CompressionType;
  readonly ByteBuffer: typeof FlatbuffersModule.ByteBuffer;
  readonly FbFooter: typeof FbFooterModule.Footer;
  readonly FbMessage: typeof FbMessageModule.Message;
  readonly FbMessageHeader: typeof FbMessageHeaderModule.MessageHeader;
  readonly FbRecordBatch: typeof FbRecordBatchModule.RecordBatch;
  readonly FbSchema: typeof FbSchemaModule.Schema;
}

/** The type of a flatbuffers Field table (for arrow-metadata-check). */
export type FbField = FbFieldModule.Field;

let modules: ArrowModules | undefined;

export function arrowModules(): ArrowModules {
  if (modules === undefined) {
    // message.js also gives the schema classes their decode functions, which Footer.decode needs.
    const message = require('apache-arrow/ipc/metadata/message') as typeof MessageModule;
    const enums = require('apache-arrow/enum') as typeof EnumModule;
    modules = Object.freeze({
      Footer: (require('apache-arrow/ipc/metadata/file') as typeof FileModule).Footer,
      Message: message.Message,
      Type: enums.Type,
      Precision: enums.Precision,
      MessageHeader: enums.MessageHeader,
      CompressionType: (require('apache-arrow/fb/compression-type') as typeof FbCompressionTypeModule).CompressionType,
      ByteBuffer: (require('flatbuffers') as typeof FlatbuffersModule).ByteBuffer,
      FbFooter: (require('apache-arrow/fb/footer') as typeof FbFooterModule).Footer,
      FbMessage: (require('apache-arrow/fb/message') as typeof FbMessageModule).Message,
      FbMessageHeader: (require('apache-arrow/fb/message-header') as typeof FbMessageHeaderModule).MessageHeader,
      FbRecordBatch: (require('apache-arrow/fb/record-batch') as typeof FbRecordBatchModule).RecordBatch,
      FbSchema: (require('apache-arrow/fb/schema') as typeof FbSchemaModule).Schema,
    });
  }
  return modules;
}
