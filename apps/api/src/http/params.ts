import { Injectable, type PipeTransform } from '@nestjs/common';
import { isIncidentId } from '@app/domain';
import { ValidationProblemException } from './validation';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class IncidentIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isIncidentId(value)) {
      throw new ValidationProblemException([
        {
          field: 'id',
          message: 'must be 3-64 characters of a-z, 0-9 and -, starting and ending with a letter or digit',
        },
      ]);
    }
    return value;
  }
}

@Injectable()
export class FactIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw new ValidationProblemException([{ field: 'factId', message: 'must be a UUID' }]);
    return value.toLowerCase();
  }
}
